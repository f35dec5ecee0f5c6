//! Logs and metrics on stdout, one JSON object per line, for CloudWatch.
//!
//! Every line carries the fields of the spans it was written in, flattened: the Lambda runtime's
//! invocation span gives `requestId`, the pipeline's delivery span gives `event_id`, so each line
//! of a request can be found by either with a plain CloudWatch Logs Insights filter.
//!
//! Metric lines (see `metrics`) are written through the same writer, so a log line and a metric
//! line never interleave, and they get the same request fields. They are written whatever the
//! log level: turning logs down must not turn the metrics off.

use crate::metrics;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Installs the subscriber for a function: stdout, at [`level_setting`]'s level, INFO when it
/// is unset or not a level.
pub fn init() {
    let level = level_setting()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Level::INFO);
    let _ = tracing::subscriber::set_global_default(subscriber(level, std::io::stdout));
}

/// The log level as configured: `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's own logging
/// configuration, when a function has one), else `RUST_LOG` (the template's `LogLevel`).
pub fn level_setting() -> Option<String> {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
}

/// The subscriber `init` installs, writing to `writer` (tests capture it).
pub fn subscriber<W>(level: Level, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Spans up to INFO are always recorded, so that an ERROR line still says which request it
    // belongs to when the level is ERROR; the SDK's DEBUG and TRACE spans are left out.
    let span_level = level.max(Level::INFO);
    let filter = filter_fn(move |meta| {
        let level = level.min(ceiling(meta.target()));
        if meta.is_span() {
            *meta.level() <= span_level.min(level.max(Level::INFO))
        } else {
            meta.target() == metrics::TARGET || *meta.level() <= level
        }
    });
    let layer = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .with_filter(filter);
    tracing_subscriber::registry().with(layer)
}

/// The most a target may log. Ours log no secret and no payload at any level; the crates below
/// us do at TRACE: the Lambda runtime prints each raw invocation (headers, `Authorization`
/// included, and the body), the HTTP and TLS stacks and the AWS SDK print requests and bodies.
/// An operator who turns the level up to debug a function must not hand every reader of its log
/// group the secrets: those crates stop at DEBUG, whatever the level asked for.
fn ceiling(target: &str) -> Level {
    let ours = target == "hookline" || target.starts_with("hookline::");
    if ours {
        Level::TRACE
    } else {
        Level::DEBUG
    }
}

/// `{"level":…,"message":…,<event fields>,<span fields>}`, or the metric document for metric
/// events. An event's own fields win over its spans', inner spans over outer ones.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                // With JsonFields, a span's recorded fields are kept as a JSON object's text.
                let recorded = extensions
                    .get::<FormattedFields<N>>()
                    .and_then(|f| serde_json::from_str::<Map<String, Value>>(f).ok());
                fields.extend(recorded.unwrap_or_default());
            }
        }
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        fields.extend(visitor.fields);

        let line = if event.metadata().target() == metrics::TARGET {
            // The metric document first, then the request fields it does not already have.
            let mut document = visitor.metric.unwrap_or_default();
            for (key, value) in fields {
                document.entry(key).or_insert(value);
            }
            Value::Object(document).to_string()
        } else {
            // Written by hand to keep level and message in front (serde_json's map is sorted).
            let mut line = format!(
                "{{\"level\":{},\"message\":{}",
                Value::from(event.metadata().level().as_str()),
                Value::from(visitor.message)
            );
            for (key, value) in fields {
                if key != "level" && key != "message" {
                    line.push_str(&format!(",{}:{value}", Value::from(key)));
                }
            }
            line.push('}');
            line
        };
        writeln!(writer, "{line}")
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Map<String, Value>,
    /// The `metrics::FIELD` of a metric event, parsed back into an object.
    metric: Option<Map<String, Value>>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == metrics::FIELD {
            self.metric = serde_json::from_str(value).ok();
        } else {
            self.fields.insert(field.name().into(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().into(), text.into());
        }
    }
}

/// An in-memory writer: tests install `subscriber(level, capture.clone())` and read the lines
/// back.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl<'w> MakeWriter<'w> for Capture {
    type Writer = Capture;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("a writer panicked").clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every line, parsed; panics on a line that is not JSON.
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("a writer panicked")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(level: Level) -> (Capture, tracing::subscriber::DefaultGuard) {
        let capture = Capture::default();
        let guard = tracing::subscriber::set_default(subscriber(level, capture.clone()));
        (capture, guard)
    }

    #[test]
    fn lines_are_flat_json_with_every_enclosing_span_field() {
        let (capture, _guard) = capture(Level::INFO);
        let invocation = tracing::info_span!("Lambda runtime invoke", requestId = "req-1");
        let _invocation = invocation.enter();
        tracing::info!(outcome = "accepted", count = 2u64, "outside a delivery");
        let delivery = tracing::info_span!("delivery", event_id = "argyle#k");
        delivery.in_scope(|| tracing::warn!(error = %"boom", "inside"));
        tracing::debug!("below the level");

        let lines = capture.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0],
            serde_json::json!({"level": "INFO", "message": "outside a delivery",
                "outcome": "accepted", "count": 2, "requestId": "req-1"})
        );
        assert_eq!(
            lines[1],
            serde_json::json!({"level": "WARN", "message": "inside", "error": "boom",
                "requestId": "req-1", "event_id": "argyle#k"})
        );
        assert!(capture
            .text()
            .starts_with(r#"{"level":"INFO","message":"outside a delivery","#));
    }

    #[test]
    fn metric_lines_are_written_whatever_the_level_and_carry_the_request() {
        let (capture, _guard) = capture(Level::ERROR);
        let invocation = tracing::info_span!("Lambda runtime invoke", requestId = "req-2");
        let _invocation = invocation.enter();
        tracing::warn!("filtered out");
        metrics::emit(&serde_json::json!({"_aws": {"Timestamp": 1}, "Accepted": 1}));
        tracing::error!("kept");

        let lines = capture.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0],
            serde_json::json!({"_aws": {"Timestamp": 1}, "Accepted": 1, "requestId": "req-2"})
        );
        assert_eq!(lines[1]["message"], "kept");
        assert_eq!(lines[1]["requestId"], "req-2");
    }
}
