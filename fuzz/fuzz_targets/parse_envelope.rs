#![no_main]
// The enricher's envelope reader answers Ok or an error for any message body, never a panic.

use hookline::envelope::ReceivedEnvelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ReceivedEnvelope::parse(text);
    }
});
