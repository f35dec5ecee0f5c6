#![no_main]
// Any invocation's bytes, read as the runtime reads them (one pass, `read_invocation`), decode
// to a request or a rejection (never a panic), and every rejection encodes back into a 4xx
// proxy response. The reader fails only where no event could be: bytes that are not one JSON
// object. A JSON object the reader refused would be a 5xx from the runtime, which API Gateway
// answers with 502 and a provider retries for days.

use hookline::lambda_event::{encode, read_invocation};
use hookline::response::respond;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let event = match read_invocation(data) {
        Ok(event) => event,
        Err(_) => {
            let as_value = serde_json::from_slice::<serde_json::Value>(data);
            assert!(
                !as_value.is_ok_and(|value| value.is_object()),
                "a JSON object the runtime's reader refused"
            );
            return;
        }
    };
    let (shape, request) = event.decode(1024);
    if let Err(rejection) = request {
        let response = encode(shape, respond(&Err(rejection)));
        assert!(response["statusCode"]
            .as_u64()
            .is_some_and(|s| (400..500).contains(&s)));
    }
});
