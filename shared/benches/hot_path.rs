//! The hot path per provider, in memory: raw request (and raw invocation event) → verified,
//! parsed, keyed envelope, at 1 KiB and 16 KiB bodies, beside the raw HMAC of the same bytes (the floor), and
//! the whole handler with in-memory store and queue.
//!
//! `cargo bench -p hookline --bench hot_path` (figures and method in BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use hookline::config::{AuthConfig, AuthOptions};
use hookline::envelope::QueueMessage;
use hookline::lambda_event::{decode, encode_request, read_invocation, EventSource};
use hookline::pipeline::{Pipeline, Settings};
use hookline::provider::Sample;
use hookline::providers::{Argyle, Baack, Midbound};
use hookline::queue::MemoryEventQueue;
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::store::MemoryEventStore;
use hookline::Provider;
use serde_json::Value;
use sha2::{Sha256, Sha512};
use std::hint::black_box;

const NOW: i64 = 1_800_000_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The sample payload grown to `size` bytes with a padding field.
fn padded<P: Sample>(size: usize) -> String {
    let base = P::payload();
    let rest = base.strip_prefix('{').unwrap();
    let filler = size.saturating_sub(base.len() + 16);
    format!("{{\"padding\":\"{}\",{rest}", "x".repeat(filler))
}

fn provider<P: Provider>() -> P {
    let auth = AuthConfig::new(Secrets::parse(SECRET), AuthOptions::default()).unwrap();
    P::from_config(&auth).unwrap()
}

/// A signed HTTP API event carrying `body` for provider `P`.
fn event<P: Provider>(body: &str) -> Value {
    let mut request = WebhookRequest::post(Default::default(), body);
    request
        .query
        .insert("event".into(), "identity.deleted".into());
    provider::<P>().sign(SECRET, &mut request, NOW).unwrap();
    encode_request(&request, EventSource::HttpApi, "/webhooks", false)
}

/// Request → verified → parsed → keyed envelope: our work per delivery, but the AWS calls.
fn request_to_envelope<P: Provider>(provider: &P, request: &WebhookRequest) -> QueueMessage {
    provider.verifier().verify(request, NOW).unwrap();
    let parsed = provider.parse(request).unwrap();
    let event_id = format!("{}#{}", P::NAME, parsed.delivery.dedup_key);
    QueueMessage::new(
        P::NAME,
        &event_id,
        &parsed.delivery,
        parsed.body,
        NOW,
        "bench",
    )
}

/// The same from the invocation's bytes, where the Lambda runtime starts: its deserialization
/// of them into an `InvocationEvent` (the runtime's own call), then our reading of the event
/// into a request.
fn event_to_envelope<P: Provider>(provider: &P, event: &[u8]) -> QueueMessage {
    let event = read_invocation(event).unwrap();
    let request = event.decode(1 << 20).1.unwrap();
    request_to_envelope(provider, &request)
}

fn bench_provider<P: Sample>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("hot_path/{}", P::NAME));
    let provider = provider::<P>();
    for size in [1024, 16 * 1024] {
        let body = padded::<P>(size);
        let event = event::<P>(&body);
        let request = decode(event.clone(), 1 << 20).1.unwrap();
        let event = serde_json::to_vec(&event).unwrap();
        group.throughput(Throughput::Bytes(body.len() as u64));
        // A fresh copy of the request each time (not timed): it caches its body's hash. Both
        // figures free what they built inside the timing, as a handler does: the request and
        // the message (left outside it, this one would be spared what the other pays).
        group.bench_with_input(
            BenchmarkId::new("request_to_envelope", size),
            &request,
            |b, r| {
                b.iter_batched(
                    || r.clone(),
                    |r| drop(black_box(request_to_envelope(&provider, &r))),
                    BatchSize::SmallInput,
                )
            },
        );
        group.bench_with_input(
            BenchmarkId::new("event_to_envelope", size),
            &event,
            |b, e| b.iter(|| drop(black_box(event_to_envelope(&provider, black_box(e))))),
        );
    }
    group.finish();
}

fn bench_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    for size in [1024, 16 * 1024] {
        let bytes = vec![b'x'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("hmac_sha256", size), &bytes, |b, bytes| {
            b.iter(|| {
                let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
                mac.update(black_box(bytes));
                mac.finalize()
            })
        });
        group.bench_with_input(BenchmarkId::new("hmac_sha512", size), &bytes, |b, bytes| {
            b.iter(|| {
                let mut mac = Hmac::<Sha512>::new_from_slice(b"key").unwrap();
                mac.update(black_box(bytes));
                mac.finalize()
            })
        });
        // What reading the invocation costs before the pipeline runs: the runtime's
        // deserialization of the event bytes into an `InvocationEvent`, as `lambda_runtime`
        // does it (the body arrives as one escaped JSON string inside them, and is unescaped).
        let event = serde_json::to_vec(&event::<Argyle>(&padded::<Argyle>(size))).unwrap();
        group.bench_with_input(BenchmarkId::new("event_parse", size), &event, |b, e| {
            b.iter(|| read_invocation(black_box(e)).unwrap())
        });
        // The same bytes into a JSON value, as the runtime read them before (for comparison).
        group.bench_with_input(
            BenchmarkId::new("event_parse_value", size),
            &event,
            |b, e| b.iter(|| serde_json::from_slice::<Value>(black_box(e)).unwrap()),
        );
    }
    group.finish();
}

/// The whole handler (event in, JSON response out) with in-memory store and queue: events per
/// second on one core. Every iteration is a new event (a fresh Baack trigger urn).
fn bench_handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let settings = Settings {
        max_body_bytes: 1 << 20,
        retention_seconds: 600,
        lease_seconds: 30,
    };
    let pipeline = Pipeline::new(
        provider::<Baack>(),
        MemoryEventStore::default(),
        MemoryEventQueue::default(),
        settings,
    );
    let base = Baack::payload();
    let mut counter = 0u64;
    let mut group = c.benchmark_group("handler");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baack_new_event_in_memory", |b| {
        b.iter_batched(
            || {
                // Not timed: a delivery with a trigger urn never seen before.
                counter += 1;
                event::<Baack>(&base.replace("5b0e4c1e-8f1a", &format!("{counter:013}")))
            },
            |event| runtime.block_on(pipeline.handle_event_at(event, "bench", NOW)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Against what a user would otherwise write or pick, at 16 KiB: Midbound verified with the
/// Standard Webhooks reference crate; Argyle handled the usual way (verify, parse the body into
/// a `serde_json::Value`, build the message with `json!` and serialize it again).
fn bench_alternatives(c: &mut Criterion) {
    let mut group = c.benchmark_group("alternatives");
    let size = 16 * 1024;
    let now = hookline::clock::unix_now();

    let midbound = provider::<Midbound>();
    let mut request = WebhookRequest::post(Default::default(), padded::<Midbound>(size));
    midbound.sign(SECRET, &mut request, now).unwrap();
    group.bench_function("midbound_verify/hookline", |b| {
        b.iter(|| {
            midbound
                .verifier()
                .verify(black_box(&request), now)
                .unwrap()
        })
    });
    let reference = standardwebhooks::Webhook::new(SECRET).unwrap();
    group.bench_function("midbound_verify/standardwebhooks_crate", |b| {
        b.iter(|| {
            reference
                .verify(black_box(&request.body), &request.headers)
                .unwrap()
        })
    });

    let argyle = provider::<Argyle>();
    let mut request = WebhookRequest::post(Default::default(), padded::<Argyle>(size));
    argyle.sign(SECRET, &mut request, NOW).unwrap();
    group.bench_function("argyle_request_to_message/hookline", |b| {
        b.iter_batched(
            || request.clone(),
            |r| drop(black_box(request_to_envelope(&argyle, &r))),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("argyle_request_to_message/value_and_json_macro", |b| {
        b.iter(|| {
            argyle.verifier().verify(black_box(&request), NOW).unwrap();
            let payload: Value = serde_json::from_slice(&request.body).unwrap();
            let key = hookline::digest::sha256_hex(&request.body);
            let message = serde_json::json!({
                "version": 1,
                "event_id": format!("argyle#{key}"),
                "provider": "argyle",
                "event_type": payload["event"],
                "payload": payload,
            });
            serde_json::to_string(&message).unwrap()
        })
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    bench_alternatives(c);
    bench_floor(c);
    hookline::for_each_provider!(|P| bench_provider::<P>(c));
    bench_handler(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
