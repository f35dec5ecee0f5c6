//! A provider API standing in for the real one in unit tests: a loopback HTTP/1.1 server on its
//! own threads, answering each request by its method and path, one request per connection. It
//! writes raw HTTP so that a test can send what a well-behaved test server never would: a
//! `Content-Length` with no body behind it, or a chunked body that never ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the stand-in answers to one request.
#[derive(Clone)]
pub enum Answer {
    /// A status and a JSON body, with its `Content-Length`.
    Json(u16, String),
    /// A 200 whose headers state `length` bytes, none of which is ever sent.
    Claims(u64),
    /// A 200 with a chunked body that goes on until the client hangs up.
    Endless,
}

pub struct StandIn {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    /// Serves `answer(method, path)` for every request until the test process ends.
    pub fn start(answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (answer, seen) = (answer.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, &*answer, &seen));
            }
        });
        Self { base, requests }
    }

    /// `METHOD /path` of each request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, answer: &dyn Fn(&str, &str) -> Answer, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    // The headers, then the body they announce (a token request's form), so that the client
    // has sent everything before the answer.
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    seen.lock().unwrap().push(format!("{method} {path}"));
    let mut stream = stream;
    match answer(&method, &path) {
        Answer::Json(status, body) => {
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Answer::Claims(length) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 content-length: {length}\r\n\r\n"
            );
            // Held open until the client hangs up: a client that waited for the body would
            // wait for its timeout.
            let _ = reader.read(&mut [0; 1]);
        }
        Answer::Endless => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 transfer-encoding: chunked\r\n\r\n1\r\n[\r\n"
            );
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "1,".repeat(32 * 1024));
            while stream.write_all(chunk.as_bytes()).is_ok() {}
        }
    }
}
