//! A body known to be one JSON document: the only thing an envelope embeds.
//!
//! The body is parsed once, into the provider's model; that parse is also what proves the bytes
//! are JSON, so the envelope can copy them in as they are instead of parsing them again.

use crate::provider::{parse_json, PayloadError};
use serde::de::DeserializeOwned;

/// JSON text with the surrounding whitespace removed. Only built by [`JsonText::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonText<'a>(&'a str);

impl<'a> JsonText<'a> {
    /// Reads `body` as `T` and keeps it as text. serde_json checks the syntax of the whole
    /// document (ignored fields and trailing bytes included) but skips the UTF-8 check inside
    /// strings it ignores; the envelope travels as text, so UTF-8 is checked here, first.
    pub fn parse<T: DeserializeOwned>(body: &'a [u8]) -> Result<(T, Self), PayloadError> {
        let text = std::str::from_utf8(body).map_err(|_| PayloadError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

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
}
