#![no_main]
// Bearer, Basic and raw-header token checks never panic, whatever the header holds.

#[path = "common.rs"]
mod common;

use hookline::secrets::Secrets;
use hookline::verify::{TokenScheme, TokenVerifier, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let request = common::request(data, &["authorization"]);
    let secrets = Secrets::parse("token-a,client:secret");
    for scheme in [TokenScheme::Bearer, TokenScheme::Basic, TokenScheme::Raw] {
        let verifier = TokenVerifier::new(http::header::AUTHORIZATION, scheme, &secrets);
        let _ = verifier.verify(&request, 0);
    }
});
