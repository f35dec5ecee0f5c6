#![no_main]
// Every provider's payload parser answers Ok or a field error, never a panic, for any bytes;
// and whatever it accepts makes a queue message that is valid JSON carrying the body unchanged
// (the envelope embeds the body as text, trusting that one parse).

use hookline::config::{AuthConfig, AuthOptions};
use hookline::envelope::{QueueMessage, ReceivedEnvelope};
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::Provider;
use libfuzzer_sys::fuzz_target;

fn parse<P: Provider>(request: &WebhookRequest) {
    let auth = AuthConfig::new(
        Secrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        AuthOptions::default(),
    )
    .unwrap();
    let Ok(parsed) = P::from_config(&auth).unwrap().parse(request) else {
        return;
    };
    let message = QueueMessage::new(P::NAME, "fuzz#1", &parsed.delivery, parsed.body, 0, "fuzz");
    let read = ReceivedEnvelope::parse(&message.body).expect("the envelope is valid JSON");
    let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(read.payload, sent);
}

fuzz_target!(|data: &[u8]| {
    let mut request = WebhookRequest::post(Default::default(), data.to_vec());
    request
        .headers
        .insert("webhook-id", http::HeaderValue::from_static("msg_fuzz"));
    request.query.insert("event".into(), "identity.created".into());
    hookline::for_each_provider!(|P| parse::<P>(&request));
});
