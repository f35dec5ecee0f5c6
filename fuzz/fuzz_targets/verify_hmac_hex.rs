#![no_main]
// Argyle's hex HMAC-SHA512 check never panics, and never accepts a signature made with
// another key.

#[path = "common.rs"]
mod common;

use hookline::secrets::Secrets;
use hookline::verify::hmac_hex::HexHmacSha512;
use hookline::verify::Verifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut request = common::request(data, &["x-argyle-signature"]);
    let verifier = HexHmacSha512::new(Secrets::parse("argyle-secret"));
    let _ = verifier.verify(&request, 0);
    verifier.sign("another-secret", &mut request, 0).unwrap();
    assert!(verifier.verify(&request, 0).is_err());
});
