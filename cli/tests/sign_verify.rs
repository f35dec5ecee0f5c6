//! `hookline sign` then `hookline verify`, through the built binary: what one signs the other
//! accepts, and a tampered body, a wrong secret or a stale timestamp is refused with the reason
//! the function would log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_hookline");
const NOW: i64 = 1_800_000_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The public test secret of `function` (events/test-secrets.env).
fn secret(function: &str) -> String {
    let text = std::fs::read_to_string(root().join("events/test-secrets.env")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.eq_ignore_ascii_case(function)
                .then(|| value.to_string())
        })
        .unwrap_or_else(|| panic!("no test secret for {function}"))
}

/// The provider's sample payload (events/payloads/), in a file of its own for each call (the
/// tests run in parallel).
fn payload(function: &str) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let provider = hookline::providers::find(function).expect("a registered provider");
    let path = temp_dir("payloads").join(format!("{function}-{call}.json"));
    std::fs::write(&path, provider.sample.trim()).unwrap();
    path
}

/// The `--event-type` `sign` needs where the provider's URL names the type (ClearID's
/// `?event=`), as its sample's URL does.
fn event_type_flag(function: &str) -> Vec<&'static str> {
    let provider = hookline::providers::find(function).expect("a registered provider");
    provider
        .sample_query
        .iter()
        .filter(|(name, _)| *name == "event")
        .flat_map(|(_, event_type)| ["--event-type", event_type])
        .collect()
}

fn run(args: &[&str], secret: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HOOKLINE_SECRET", secret)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Signs `function`'s sample payload at `NOW` into `dir/headers.txt`.
fn sign(dir: &Path, function: &str) -> PathBuf {
    let headers = dir.join("headers.txt");
    let payload = payload(function);
    let mut args = vec!["sign", "--provider", function, "--timestamp", "1800000000"];
    args.extend(["--file", payload.to_str().unwrap()]);
    args.extend(event_type_flag(function));
    let output = run(&args, &secret(function));
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::write(&headers, &output.stdout).unwrap();
    headers
}

fn verify(function: &str, secret: &str, headers: &Path, body: &Path, now: i64) -> Output {
    verify_with(function, secret, headers, body, now, &[])
}

/// `hookline verify` of a capture as at `now`, with `extra` options.
fn verify_with(
    function: &str,
    secret: &str,
    headers: &Path,
    body: &Path,
    now: i64,
    extra: &[&str],
) -> Output {
    let now = now.to_string();
    let args = [
        "verify",
        "--provider",
        function,
        "--headers",
        headers.to_str().unwrap(),
        "--body",
        body.to_str().unwrap(),
        "--now",
        &now,
    ];
    run(&[&args[..], extra].concat(), secret)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hookline-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn what_sign_signs_verify_accepts_for_every_provider() {
    for function in hookline::providers::names() {
        let dir = temp_dir(function);
        let headers = sign(&dir, function);
        let output = verify(
            function,
            &secret(function),
            &headers,
            &payload(function),
            NOW,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{function}: {}",
            stderr(&output)
        );
        assert!(
            stdout.starts_with(&format!(
                "verified: the function would accept it as {function}#"
            )),
            "{function}: {stdout}"
        );
        for event_type in event_type_flag(function).iter().skip(1) {
            // The query `sign` printed (`# query: event=...`) is the type the function reads.
            assert!(stdout.contains(&format!("({event_type})")), "{stdout}");
        }
    }
}

#[test]
fn a_captured_curl_dump_with_crlf_and_a_status_line_verifies() {
    let dir = temp_dir("crlf");
    let headers = sign(&dir, "argyle");
    let text = std::fs::read_to_string(&headers).unwrap();
    let dump = format!(
        "POST /webhooks/argyle HTTP/1.1\r\n{}\r\n",
        text.replace('\n', "\r\n")
    );
    std::fs::write(&headers, dump).unwrap();
    let output = verify(
        "argyle",
        &secret("argyle"),
        &headers,
        &payload("argyle"),
        NOW,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_tampered_body_is_a_bad_signature() {
    let dir = temp_dir("tampered");
    let headers = sign(&dir, "argyle");
    let body = dir.join("tampered.json");
    let mut bytes = std::fs::read(payload("argyle")).unwrap();
    bytes.extend_from_slice(b" ");
    std::fs::write(&body, bytes).unwrap();
    let output = verify("argyle", &secret("argyle"), &headers, &body, NOW);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "hookline: not verified: the function would answer 401 (bad_signature): authentication \
         failed: credential matches none of the configured secrets\n"
    );
}

#[test]
fn a_wrong_secret_is_refused_and_never_printed() {
    for function in hookline::providers::names() {
        let dir = temp_dir(&format!("wrong-{function}"));
        let headers = sign(&dir, function);
        let wrong = "whsec_bm90LXRoZS1jb25maWd1cmVkLXNlY3JldA==";
        let output = verify(function, wrong, &headers, &payload(function), NOW);
        assert_eq!(output.status.code(), Some(1), "{function}");
        let text = stderr(&output);
        assert!(text.contains("(bad_signature)"), "{function}: {text}");
        let printed = format!("{text}{}", String::from_utf8_lossy(&output.stdout));
        assert!(!printed.contains(wrong) && !printed.contains(&secret(function)));
    }
}

#[test]
fn a_stale_midbound_timestamp_says_by_how_much() {
    let dir = temp_dir("stale");
    let headers = sign(&dir, "midbound");
    let output = verify(
        "midbound",
        &secret("midbound"),
        &headers,
        &payload("midbound"),
        NOW + 301,
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "hookline: not verified: the function would answer 401 (outside_replay_window): \
         authentication failed: timestamp 301 s old is outside the 300 s tolerance\n"
    );
    let output = verify(
        "midbound",
        &secret("midbound"),
        &headers,
        &payload("midbound"),
        NOW - 400,
    );
    assert!(
        stderr(&output).contains("timestamp 400 s in the future is outside the 300 s tolerance")
    );
}

#[test]
fn a_missing_header_is_named() {
    let dir = temp_dir("missing");
    let headers = dir.join("empty.txt");
    std::fs::write(&headers, "content-type: application/json\n").unwrap();
    let output = verify(
        "midbound",
        &secret("midbound"),
        &headers,
        &payload("midbound"),
        NOW,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "(missing_credential): authentication failed: missing or repeated header webhook-id"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_secret_the_encoding_cannot_read_is_named_and_the_other_encoding_suggested() {
    let dir = temp_dir("encoding");
    let headers = sign(&dir, "midbound");
    let body = payload("midbound");
    // Not base64 after whsec_: the function would not start with encoding spec.
    let output = verify_with(
        "midbound",
        "whsec_not*base64*at*all*",
        &headers,
        &body,
        NOW,
        &["--encoding", "spec"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("WEBHOOK_SECRETS is invalid: secret #1 is not valid base64 after the whsec_ prefix (key encoding spec)"),
        "{}",
        stderr(&output)
    );
    // The test secret signs with its spec key: read raw, it fails, and spec is suggested.
    let output = verify_with(
        "midbound",
        &secret("midbound"),
        &headers,
        &body,
        NOW,
        &["--encoding", "raw"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).ends_with("hookline: it verifies with --encoding spec: the secret is right, the function's option is not\n"));
}

#[test]
fn usage_errors_exit_2() {
    let output = run(
        &[
            "verify",
            "--provider",
            "argyle",
            "--headers",
            "/nonexistent",
            "--body",
            "/nonexistent",
        ],
        "s",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("hookline: cannot read /nonexistent"));
    let output = run(&["verify", "--provider", "nobody"], "s");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_lists_the_choices_and_an_example_per_verb() {
    let help = |verb: &str| {
        let output = Command::new(BIN).args([verb, "--help"]).output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let sign = help("sign");
    for choice in [
        "baack",
        "clearid",
        "argyle",
        "midbound",
        "bearer",
        "basic",
        "spec",
        "raw",
        "auto",
        "http-api",
        "rest-api",
        "function-url",
    ] {
        assert!(sign.contains(choice), "sign --help lacks {choice}:\n{sign}");
    }
    assert!(sign.contains("Examples:\n  hookline sign"));
    let verify = help("verify");
    assert!(
        verify.contains("[possible values: baack, clearid, argyle, midbound]"),
        "{verify}"
    );
    assert!(verify.contains("Examples:") && verify.contains("hookline verify --provider"));
    assert!(help("urls").contains("hookline urls --stack"));
}

/// The ClearID event types `hookline urls` lists (one webhook each) are the ones the function
/// recognizes; another type is accepted and flagged.
#[test]
fn every_clearid_type_of_the_urls_is_recognized_by_the_function() {
    let dir = temp_dir("clearid-types");
    let body = payload("clearid");
    for (event_type, recognized) in [
        ("identity.created", true),
        ("identity.updated", true),
        ("identity.deleted", true),
        ("identity_request.created", true),
        ("identity_request.updated", true),
        ("badge.printed", false),
    ] {
        let signed = run(
            &[
                "sign",
                "--provider",
                "clearid",
                "--file",
                body.to_str().unwrap(),
                "--event-type",
                event_type,
            ],
            &secret("clearid"),
        );
        let headers = dir.join(format!("{event_type}.txt"));
        std::fs::write(&headers, &signed.stdout).unwrap();
        let output = verify("clearid", &secret("clearid"), &headers, &body, NOW);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            !stdout.contains("unrecognized"),
            recognized,
            "{event_type}: {stdout}"
        );
    }
}
