#![no_main]
// Any JSON invocation event decodes to a request or a rejection (never a panic), and every
// answer encodes back into a proxy response.

use hookline::lambda_event::{decode, encode};
use hookline::response::respond;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (shape, request) = decode(event, 1024);
    if let Err(rejection) = request {
        let response = encode(shape, respond(&Err(rejection)));
        assert!(response["statusCode"].as_u64().is_some_and(|s| (400..500).contains(&s)));
    }
});
