//! JSON logs for CloudWatch: one object per line, with the span fields (the Lambda runtime's
//! request span carries the request id) on every line.

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        // CloudWatch stamps every line itself.
        .without_time()
        .try_init();
}
