#![no_main]
// Standard Webhooks verification never panics on any id, timestamp or signature list, and a
// request it signs itself always verifies.

#[path = "common.rs"]
mod common;

use hookline::secrets::Secrets;
use hookline::verify::{KeyEncoding, StandardWebhooks, Verifier};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fuzz_target!(|data: &[u8]| {
    let request = common::request(data, &["webhook-id", "webhook-timestamp", "webhook-signature"]);
    let verifier = StandardWebhooks::new(&Secrets::parse(SECRET), KeyEncoding::Auto, 300).unwrap();
    let _ = verifier.verify(&request, 1_700_000_000);

    let mut own = hookline::request::WebhookRequest::post(Default::default(), request.body.clone());
    if let Some(id) = request.headers.get("webhook-id") {
        own.headers.insert("webhook-id", id.clone());
    }
    verifier.sign(SECRET, &mut own, 1_700_000_000).unwrap();
    assert_eq!(verifier.verify(&own, 1_700_000_000), Ok(()));
});
