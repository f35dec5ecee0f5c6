#![no_main]
// Values a provider chooses, wherever they flow into a limit or a date conversion: any text as
// Baack's trigger and subscription timestamps and its urns, any number as Midbound's `created`.
// Never a panic; whatever is accepted makes a message within its bound whose event id fits
// DynamoDB's partition key; `limits::bounded` keeps its promise for any text.

use hookline::config::{AuthConfig, AuthOptions};
use hookline::envelope::{QueueMessage, ReceivedEnvelope};
use hookline::limits::{bounded, ENVELOPE_OVERHEAD_BYTES, MAX_KEY_BYTES};
use hookline::providers::{Baack, Midbound};
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::Provider;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fn message<P: Provider>(body: &str) {
    let auth = AuthConfig::new(
        Secrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        AuthOptions::default(),
    )
    .unwrap();
    let mut request = WebhookRequest::post(Default::default(), body);
    request
        .headers
        .insert("webhook-id", http::HeaderValue::from_static("msg_fuzz"));
    let Ok(parsed) = P::from_config(&auth).unwrap().parse(&request) else {
        return;
    };
    let key = bounded(&parsed.delivery.dedup_key, MAX_KEY_BYTES);
    let event_id = format!("{}#{key}", P::NAME);
    assert!(event_id.len() <= 2048);
    let message = QueueMessage::new(P::NAME, &event_id, &parsed.delivery, parsed.body, 0, "fuzz");
    ReceivedEnvelope::parse(&message.body).expect("the envelope is valid JSON");
    let bounded_type = bounded(&parsed.delivery.event_type, 128);
    assert!(bounded_type.len() <= 64 + 8 + 64 + 128);
    // Escaping aside (the pipeline refuses what outgrows it), the envelope stays in its bound.
    if !body.contains(['\u{FFFE}', '\u{FFFF}']) && parsed.delivery.event_type.len() <= 128 {
        assert!(message.body.len() <= body.trim().len() + ENVELOPE_OVERHEAD_BYTES);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mapped = bounded(&text, 32);
    assert!(mapped.len() <= 64 + "~sha256:".len() + 64);
    assert_eq!(mapped, bounded(&text, 32));

    let baack = json!({
        "trigger": {"urn": text, "subject": "IDENTITY", "event": "UPDATE", "timestamp": text,
                    "targetUrn": "urn:baack:identity:1"},
        "subscription": {"urn": text, "expirationTimestamp": text},
        "v1": {"urn": "urn:baack:identity:1", "url": "/n/v1/identity/urn:baack:identity:1"}
    });
    message::<Baack>(&baack.to_string());

    let created = data
        .get(..8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(-62_167_219_200_001);
    let midbound = json!({"id": "msg_fuzz", "type": text, "created": created, "data": {}});
    message::<Midbound>(&midbound.to_string());
});
