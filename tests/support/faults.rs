//! A fault-injecting HTTP proxy in front of the emulator: it forwards every AWS call, except
//! that calls matching a rule are answered with an error or delayed first. Real SDK clients talk
//! to it over the wire, so their timeouts and retries are what gets tested, not mocks.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to do to the calls whose request head contains `matching` (for example
/// `DynamoDB_20120810.PutItem` or `AmazonSQS.SendMessage`, from the `X-Amz-Target` header).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and JSON error type instead of forwarding.
    Fail {
        status: u16,
        error_type: &'static str,
    },
    /// Wait this long, then forward.
    Delay(Duration),
}

#[derive(Debug, Clone)]
struct Rule {
    matching: &'static str,
    fault: Fault,
    remaining: usize,
}

#[derive(Clone, Default)]
pub struct FaultProxy {
    rules: Arc<Mutex<Vec<Rule>>>,
    hits: Arc<Mutex<Vec<&'static str>>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    /// Starts the proxy on a free loopback port in front of `upstream` (`http://host:port`);
    /// returns it and its URL.
    pub async fn start(upstream: &str) -> (Self, String) {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Self::default();
        let shared = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (proxy, upstream) = (shared.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = proxy.serve(client, &upstream).await;
                });
            }
        });
        (proxy, url)
    }

    /// Applies `fault` to the next `times` calls matching `matching`.
    pub fn inject(&self, matching: &'static str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            matching,
            fault,
            remaining: times,
        });
    }

    /// Drops every rule not used up yet.
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// How many calls each rule caught, in order.
    pub fn hits(&self, matching: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|m| **m == matching)
            .count()
    }

    /// Every call received so far, by operation, in order; faulted calls and SDK retries
    /// included. See [`operation_of`] for how each is named.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// Forgets the calls received so far.
    pub fn reset_calls(&self) {
        self.calls.lock().unwrap().clear();
    }

    fn fault_for(&self, head: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.remaining > 0 && head.contains(r.matching))?;
        rule.remaining -= 1;
        self.hits.lock().unwrap().push(rule.matching);
        Some(rule.fault.clone())
    }

    /// One request per connection (answers say `Connection: close`), which keeps the proxy
    /// simple and costs the SDK only a reconnect.
    async fn serve(&self, mut client: TcpStream, upstream: &str) -> std::io::Result<()> {
        let request = read_message(&mut client).await?;
        let end = header_end(&request).unwrap_or(0);
        let head = String::from_utf8_lossy(&request[..end]).to_string();
        let operation = operation_of(&head, &request[end..]);
        self.calls.lock().unwrap().push(operation);
        match self.fault_for(&head) {
            Some(Fault::Fail { status, error_type }) => {
                let body = format!(r#"{{"__type":"{error_type}","message":"injected fault"}}"#);
                let answer = format!(
                    "HTTP/1.1 {status} Injected\r\ncontent-type: application/x-amz-json-1.0\r\n\
                     x-amzn-query-error: {error_type};Sender\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                client.write_all(answer.as_bytes()).await?;
                return client.shutdown().await;
            }
            Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
            None => {}
        }
        let mut server = TcpStream::connect(upstream).await?;
        server.write_all(&close_connection(&request)).await?;
        let mut answer = Vec::new();
        server.read_to_end(&mut answer).await?;
        client.write_all(&answer).await?;
        client.shutdown().await
    }
}

/// A call's operation: its `X-Amz-Target` (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`:
/// the JSON protocols); else, for the query protocol (CloudFormation, IAM, STS), the signing
/// service and the form's `Action` (`cloudformation.DescribeStacks`); else `unknown`.
fn operation_of(head: &str, body: &[u8]) -> String {
    let header = |wanted: &str| {
        head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case(wanted)
                .then(|| value.trim().to_string())
        })
    };
    if let Some(target) = header("x-amz-target") {
        return target;
    }
    // `Credential=KEY/DATE/REGION/SERVICE/aws4_request` in the SigV4 Authorization header.
    let service = header("authorization").and_then(|authorization| {
        let scope = authorization.split("Credential=").nth(1)?;
        Some(scope.split('/').nth(3)?.to_string())
    });
    let body = String::from_utf8_lossy(body);
    let action = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="));
    match (service, action) {
        (Some(service), Some(action)) => format!("{service}.{action}"),
        _ => "unknown".into(),
    }
}

fn header_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Reads one HTTP request: the head, then `content-length` bytes of body.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = header_end(&buffer) {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + length {
                return Ok(buffer);
            }
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(buffer);
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Asks the upstream to close after answering, so its answer ends at end of stream.
fn close_connection(request: &[u8]) -> Vec<u8> {
    let end = header_end(request).unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..end]);
    let mut rewritten: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    rewritten.push_str("connection: close\r\n\r\n");
    let mut out = rewritten.into_bytes();
    out.extend_from_slice(&request[end..]);
    out
}
