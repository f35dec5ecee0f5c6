//! JSON bodies: read into a model naming the field that does not fit, and kept as text known to
//! be one JSON document (the only thing an envelope embeds).
//!
//! The body is parsed once, into the provider's model; that parse is also what proves the bytes
//! are JSON, so the envelope can copy them in as they are instead of parsing them again.

use serde::de::DeserializeOwned;

/// A body that is not the provider's JSON shape; `field` is the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid payload at {field}: {message}")]
pub struct PayloadError {
    pub field: String,
    pub message: String,
}

/// JSON text with the surrounding whitespace removed. Only built by [`JsonText::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonText<'a>(&'a str);

impl<'a> JsonText<'a> {
    /// Reads `body` as `T` and keeps it as text. serde_json checks the syntax of the whole
    /// document (ignored fields and trailing bytes included) but skips the UTF-8 check inside
    /// strings it ignores; the envelope travels as text, so UTF-8 is checked here, first.
    pub fn parse<T: DeserializeOwned>(body: &'a [u8]) -> Result<(T, Self), PayloadError> {
        let text = simdutf8::basic::from_utf8(body).map_err(|_| PayloadError {
            field: "body".into(),
            message: "not UTF-8".into(),
        })?;
        let value = parse_json(body)?;
        // JSON's four whitespace characters, the ones a parser skips around a value.
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        Ok((value, Self(text)))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Deserializes a body, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    // Most bodies fit: they are read once, without the cost of tracking where the parser is.
    // Only a body that does not fit is read again, to say where.
    serde_json::from_slice(body).map_err(|_| misfit::<T>(body))
}

/// Why `body` is not a `T`, with the path of the offending field.
fn misfit<T: DeserializeOwned>(body: &[u8]) -> PayloadError {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(_) => {
            return PayloadError {
                field: "body".into(),
                message: "trailing characters after the JSON value".into(),
            }
        }
        Err(error) => error,
    };
    let path = error.path().to_string();
    let inner = error.into_inner();
    // A syntax error is the body's fault as a whole, wherever the parser was.
    let path = if inner.is_syntax() || inner.is_eof() {
        ".".to_string()
    } else {
        path
    };
    // serde_json appends " at line L column C"; the path already says where.
    let message = inner.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => &message,
    };
    PayloadError {
        field: if path == "." { "body".into() } else { path },
        message: without_values(message),
    }
}

/// serde says `invalid type: string "ann@example.com", expected u64`: the value may be personal
/// data, and this message reaches logs, so only the expectation is kept.
fn without_values(message: &str) -> String {
    for kind in ["invalid type", "invalid value"] {
        if message.starts_with(kind) {
            return match message.find(", expected ") {
                Some(at) => format!("{kind}{}", &message[at..]),
                None => kind.to_string(),
            };
        }
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        urn: String,
    }

    #[test]
    fn keeps_the_document_verbatim_without_outer_whitespace() {
        let (_, text) = JsonText::parse::<IgnoredAny>(b" \r\n{ \"a\" : [1, 2] }\t\n").unwrap();
        assert_eq!(text.as_str(), r#"{ "a" : [1, 2] }"#);
    }

    #[test]
    fn refuses_what_is_not_exactly_one_json_document() {
        let invalid: [&[u8]; 6] = [
            b"",
            b"{\"a\":1} {}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\\q\"}",
            b"{\"a\":1,}",
            b"{\"a\":\"\x01\"}",
        ];
        for body in invalid {
            let error = JsonText::parse::<IgnoredAny>(body).unwrap_err();
            assert_eq!(error.field, "body", "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_json::<Outer>(br#"{"inner":{}}"#).unwrap_err();
        assert_eq!(err.field, "inner");
        assert_eq!(err.message, "missing field `urn`");
        let err = parse_json::<Outer>(br#"{"inner":{"urn":5}}"#).unwrap_err();
        assert_eq!(err.field, "inner.urn");
        assert_eq!(err.message, "invalid type, expected a string");
        let err = parse_json::<Outer>(br#"{"inner":"ann@example.com"}"#).unwrap_err();
        assert!(!err.message.contains("ann@"), "{}", err.message);
        let err = parse_json::<Outer>(b"not json").unwrap_err();
        assert_eq!(err.field, "body");
        let err = parse_json::<Outer>(br#"{"inner": {"urn": nope"#).unwrap_err();
        assert_eq!(err.field, "body");
        let err = parse_json::<Outer>(br#"{"inner":{"urn":"x"}} extra"#).unwrap_err();
        assert_eq!(err.field, "body");
    }
}
