//! A captured request's headers file: one `Name: value` per line, as `hookline sign` prints and
//! `curl -D` dumps. CRLF or LF; a status or request line (`HTTP/1.1 200 OK`,
//! `POST /webhooks/clearid?event=identity.deleted HTTP/1.1`) is skipped, its query kept; `#`
//! lines are comments, except `# query: ...` (what `sign` prints for ClearID). A blank line ends
//! a block: a later status line starts a new one (curl's `100 Continue` before the answer).

use http::{HeaderMap, HeaderName, HeaderValue};

#[derive(Debug, Default)]
pub struct Captured {
    pub headers: HeaderMap,
    /// From a request line or a `# query:` comment, when there was one.
    pub query: Option<String>,
}

/// Parses the file's text; an unusable line is an error naming its number.
pub fn parse(text: &[u8]) -> Result<Captured, String> {
    let mut captured = Captured::default();
    for (index, raw) in text.split(|b| *b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let number = index + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(comment) = line.strip_prefix(b"#") {
            let comment = String::from_utf8_lossy(comment);
            if let Some(query) = comment.trim().strip_prefix("query:") {
                captured.query = Some(query.trim().to_string());
            }
            continue;
        }
        if let Some(target) = start_line(line) {
            // A new message begins: what came before belonged to another one.
            captured.headers.clear();
            if let Some((_, query)) = target.split_once('?') {
                captured.query = Some(query.to_string());
            }
            continue;
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| format!("line {number} is not `Name: value`"))?;
        let name = HeaderName::from_bytes(line[..colon].trim_ascii())
            .map_err(|_| format!("line {number}: not a valid header name"))?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii())
            .map_err(|_| format!("line {number}: not a valid header value"))?;
        // Repeated headers are kept repeated: the verifiers refuse a repeated credential.
        captured.headers.append(name, value);
    }
    Ok(captured)
}

/// The request target of a request line, or `""` for a status line; `None` for a header.
fn start_line(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    if text.starts_with("HTTP/") {
        return Some(String::new());
    }
    let mut parts = text.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    (is_method && version.starts_with("HTTP/") && parts.next().is_none())
        .then(|| target.to_string())
}

/// `a=1&b=2` as the function sees a query: the first value of each parameter.
pub fn query_pairs(query: &str) -> std::collections::HashMap<String, String> {
    let mut pairs = std::collections::HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs
            .entry(name.to_string())
            .or_insert_with(|| value.to_string());
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_status_lines_comments_and_repeats() {
        let text = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nWebhook-Id: msg_1\r\n\
                     x-a: 1\r\nx-a: 2\r\n# query: event=identity.deleted\r\n\r\n";
        let captured = parse(text).unwrap();
        assert_eq!(captured.headers["webhook-id"], "msg_1");
        assert_eq!(captured.headers.get_all("x-a").iter().count(), 2);
        assert_eq!(captured.query.as_deref(), Some("event=identity.deleted"));
    }

    #[test]
    fn a_request_line_gives_the_query() {
        let captured = parse(b"POST /webhooks/clearid?event=identity.created HTTP/1.1\nA: b\n");
        let captured = captured.unwrap();
        assert_eq!(captured.query.as_deref(), Some("event=identity.created"));
        assert_eq!(captured.headers["a"], "b");
    }

    #[test]
    fn a_line_without_a_colon_is_named() {
        assert_eq!(
            parse(b"a: b\nnonsense\n").unwrap_err(),
            "line 2 is not `Name: value`"
        );
    }

    #[test]
    fn first_value_of_each_parameter() {
        let pairs = query_pairs("event=a&event=b&x");
        assert_eq!(pairs["event"], "a");
        assert_eq!(pairs["x"], "");
    }
}
