//! A function URL on this machine for `hookline load` to send to: HTTP in, the invocation event
//! a function URL would make of it (`encode_request`), the provider's real pipeline against the
//! emulator's table and queue, the proxy response back as HTTP. `cargo lambda watch` does the
//! same for the built binaries (scripts/load); this one runs inside the test.

use bytes::Bytes;
use hookline::lambda_event::{encode_request, EventSource};
use hookline::request::WebhookRequest;
use hookline::runtime::LivePipeline;
use hookline::Provider;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Serves `pipeline` on a free loopback port until the test ends; returns its URL.
pub async fn serve<P: Provider + 'static>(pipeline: LivePipeline<P>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let pipeline = Arc::new(pipeline);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let pipeline = pipeline.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(pipeline.clone(), request));
                // A client closing its connection mid-request is the client's business.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

async fn answer<P: Provider>(
    pipeline: Arc<LivePipeline<P>>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut delivery = WebhookRequest::post(parts.headers, body.to_vec());
    delivery.method = parts.method;
    for pair in parts.uri.query().unwrap_or_default().split('&') {
        if let Some((name, value)) = pair.split_once('=') {
            delivery.query.entry(name.into()).or_insert(value.into());
        }
    }
    let event = encode_request(&delivery, EventSource::FunctionUrl, parts.uri.path(), false);
    // Each invocation has its own request id, as on Lambda: the pipeline's claim is that
    // attempt's, and a racing delivery of the same event must not pass for it.
    static INVOCATIONS: AtomicU64 = AtomicU64::new(0);
    let request_id = format!(
        "function-url-{}",
        INVOCATIONS.fetch_add(1, Ordering::Relaxed)
    );
    let response = pipeline.handle_event(event, &request_id).await;
    let mut answer =
        hyper::Response::builder().status(response["statusCode"].as_u64().unwrap() as u16);
    for (name, value) in response["headers"].as_object().into_iter().flatten() {
        answer = answer.header(name.as_str(), value.as_str().unwrap());
    }
    let body = response["body"].as_str().unwrap_or_default().to_string();
    Ok(answer.body(Full::new(Bytes::from(body))).unwrap())
}
