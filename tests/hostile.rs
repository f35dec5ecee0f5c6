//! Hostile and odd requests, for every kind of check: each gets its documented status and a
//! short JSON error, never a panic, a 500, or anything stored.

use base64::Engine;
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use integration_tests::samples::{now, webhook_id};
use integration_tests::{Event, Harness, Response, Sample, Shape};
use serde_json::{json, Value};

/// An Argyle delivery of raw bytes (not necessarily UTF-8), signed over those exact bytes and
/// carried base64-encoded, as API Gateway does for binary bodies.
fn signed_bytes(bytes: &[u8]) -> Value {
    let signature = hookline::verify::hmac_hex::HexHmacSha512::signature(Argyle::SECRETS[1], bytes);
    let mut event = Event::new(&[("x-argyle-signature".to_string(), signature)], "").build();
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    event["isBase64Encoded"] = json!(true);
    event
}

fn assert_refused(r: &Response, status: u16, case: &str) {
    assert_eq!(r.status, status, "{case}: {}", r.body);
    assert_eq!(r.body["status"], "rejected", "{case}");
    let error = r.body["error"].as_str().unwrap_or_default();
    assert!(
        !error.is_empty() && error.len() < 200,
        "{case}: error {error:?}"
    );
}

/// The same hostile bodies, methods and event shapes for every function: each correctly signed
/// for its provider, so what is refused is the content, not the credential.
async fn hostile_bodies_and_methods<S: Sample>() {
    let h = Harness::<S>::with(false, &[("MAX_BODY_BYTES", "65536".into())]).await;
    let invoke = |event: Value| integration_tests::invoke(&h.pipeline, event);
    let payload = S::payload();

    let cases: Vec<(&str, Value, u16)> = vec![
        ("empty body", h.signed("").build(), 400),
        ("huge body", h.signed(&"x".repeat(70_000)).build(), 413),
        (
            "huge base64 body",
            h.signed(&"x".repeat(70_000)).base64().build(),
            413,
        ),
        (
            "deeply nested JSON",
            h.signed(&"[".repeat(50_000)).build(),
            400,
        ),
        ("JSON array", h.signed("[1,2,3]").build(), 400),
        ("JSON string", h.signed("\"identity\"").build(), 400),
        ("JSON null", h.signed("null").build(), 400),
        (
            "trailing garbage",
            h.signed(&(payload.trim().to_string() + "}}")).build(),
            400,
        ),
        ("GET", h.signed(&payload).method("GET").build(), 405),
        ("PUT", h.signed(&payload).method("PUT").build(), 405),
        ("DELETE", h.signed(&payload).method("DELETE").build(), 405),
        (
            "not an API Gateway event",
            json!({"Records": [{"body": "{}"}]}),
            400,
        ),
        (
            "API Gateway v2 without request context",
            json!({"version": "2.0", "body": "{}"}),
            400,
        ),
        (
            "malformed base64",
            h.signed("{}").raw_base64_body("%%%").build(),
            400,
        ),
    ];
    for (case, event, status) in cases {
        let r = invoke(event).await;
        assert_refused(&r, status, case);
    }
    h.assert_untouched().await;
}

hookline::for_each_provider!(mod |P| {
    #[tokio::test]
    async fn hostile_bodies_and_methods() {
        super::hostile_bodies_and_methods::<P>().await;
    }
});

#[tokio::test]
async fn bytes_that_are_not_utf8_signed_over_exactly_are_refused() {
    let h = Harness::<Argyle>::new().await;
    let r = integration_tests::invoke(&h.pipeline, signed_bytes(b"{\"event\":\"\xff\xfe\"}")).await;
    assert_refused(&r, 400, "invalid UTF-8");
    h.assert_untouched().await;
}

#[tokio::test]
async fn hostile_headers() {
    let h = Harness::<Argyle>::new().await;
    let body = Argyle::payload();
    let good = Argyle::headers(Argyle::SECRETS[1], &body);
    let (name, signature) = good[0].clone();
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("no signature", vec![]),
        ("empty signature", vec![(name.clone(), String::new())]),
        (
            "signature of another body",
            Argyle::headers(Argyle::SECRETS[1], "{}"),
        ),
        (
            "truncated signature",
            vec![(name.clone(), signature[..100].to_string())],
        ),
        ("non-hex signature", vec![(name.clone(), "zz".repeat(64))]),
        (
            "signature with a prefix",
            vec![(name.clone(), format!("sha512={signature}"))],
        ),
        (
            "two signatures, one good",
            vec![
                (name.clone(), "00".repeat(64)),
                (name.clone(), signature.clone()),
            ],
        ),
    ];
    for (case, headers) in cases {
        // REST API events keep repeated headers apart, as API Gateway sends them.
        let r = h
            .send(Event::new(&headers, &body).shape(Shape::RestApi))
            .await;
        assert_refused(&r, 401, case);
        assert_eq!(r.body["error"], "unauthorized", "{case}");
    }
    h.assert_untouched().await;

    // Header names are case-insensitive; content type and path are not checked.
    let shouting = vec![
        ("X-ARGYLE-SIGNATURE".to_string(), signature.clone()),
        ("content-type".to_string(), "text/plain".to_string()),
    ];
    let mut event = Event::new(&shouting, &body).build();
    event["rawPath"] = json!("/webhooks/../../etc/passwd%00");
    event["requestContext"]["http"]["path"] = json!("/webhooks/../../etc/passwd%00");
    integration_tests::invoke(&h.pipeline, event)
        .await
        .expect(200, "accepted");
}

#[tokio::test]
async fn hostile_standard_webhooks_headers() {
    let h = Harness::<Midbound>::new().await;
    let body = Midbound::payload();
    let id = webhook_id(&body);
    let good = Midbound::headers_at(Midbound::SECRETS[1], &body, now(), Some(&id));
    let header = |name: &str| good.iter().find(|(k, _)| k == name).unwrap().1.clone();
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        good.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == name {
                        value.to_string()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect()
    };
    let signature = header("webhook-signature");
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "non-numeric timestamp",
            with("webhook-timestamp", "yesterday"),
        ),
        (
            "overflowing timestamp",
            with("webhook-timestamp", "99999999999999999999999999"),
        ),
        ("negative timestamp", with("webhook-timestamp", "-1")),
        (
            "millisecond timestamp",
            with("webhook-timestamp", &(now() * 1000).to_string()),
        ),
        (
            "only garbage signatures",
            with("webhook-signature", "v1,!!! v1, v2,abc , ,,,"),
        ),
        ("another id", with("webhook-id", "msg_someone_else")),
        ("empty signature header", with("webhook-signature", "")),
    ];
    for (case, headers) in cases {
        let r = h.send(Event::new(&headers, &body)).await;
        assert_refused(&r, 401, case);
    }
    h.assert_untouched().await;

    let among_garbage = format!("v1,!!! v2,xyz v1a,abc {signature} v1,AAAA");
    h.send(Event::new(
        &with("webhook-signature", &among_garbage),
        &body,
    ))
    .await
    .expect(200, "accepted");
}

#[tokio::test]
async fn hostile_bearer_tokens() {
    let h = Harness::<Baack>::new().await;
    let body = Baack::payload();
    let token = Baack::SECRETS[1];
    let cases = [
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer ".to_string(),
        token.to_string(),
        format!("Bearer {token}\t"),
    ];
    for value in cases {
        let headers = vec![("Authorization".to_string(), value.clone())];
        let r = h.send(Event::new(&headers, &body)).await;
        if value.trim_end() == format!("Bearer {token}") {
            // Surrounding white space is not part of a token (RFC 9110 trims it).
            r.expect(200, "accepted");
            continue;
        }
        assert_refused(&r, 401, &value);
    }
}

/// `webhook-timestamp` is signed as sent: another spelling of the same second never verifies
/// with the usual signature, and only plain digits are read at all.
#[tokio::test]
async fn standard_webhooks_timestamps_are_verified_as_sent() {
    use hookline::verify::StandardWebhooks;
    let h = Harness::<Midbound>::new().await;
    let body = Midbound::payload();
    let id = webhook_id(&body);
    let key = StandardWebhooks::spec_key(Midbound::SECRETS[1]).unwrap();
    let ts = now().to_string();
    let headers = |sent: &str, signed: &str| {
        let signature = StandardWebhooks::signature_of_text(&key, &id, signed, body.as_bytes());
        vec![
            ("webhook-id".to_string(), id.clone()),
            ("webhook-timestamp".to_string(), sent.to_string()),
            ("webhook-signature".to_string(), signature),
        ]
    };
    let (plus, zero) = (format!("+{ts}"), format!("0{ts}"));
    for (case, sent, signed) in [
        ("plus sign, usual signature", &plus, &ts),
        ("leading zero, usual signature", &zero, &ts),
        ("plus sign, signed as sent", &plus, &plus),
    ] {
        let r = h.send(Event::new(&headers(sent, signed), &body)).await;
        assert_refused(&r, 401, case);
        assert_eq!(r.body["error"], "unauthorized", "{case}");
    }
    h.assert_untouched().await;
    // Leading zeros are digits: signed over that very text, the delivery is genuine.
    h.send(Event::new(&headers(&zero, &zero), &body))
        .await
        .expect(200, "accepted");
}

/// Values at and past the AWS limits they flow into, and dates no calendar conversion can
/// write, each correctly signed: each gets its documented status (accepted and mapped, or a
/// 400 naming the field), never a 5xx (a retry loop) or a panic; exactly one message per
/// accepted delivery.
async fn hostile_values<S: Sample>(cases: Vec<(&str, String, u16)>) {
    let h = Harness::<S>::new().await;
    let mut accepted = 0;
    for (case, body, status) in cases {
        let r = h.send(h.signed(&body)).await;
        assert_eq!(r.status, status, "{case}: {}", r.body);
        if status == 200 {
            assert_eq!(r.body["status"], "accepted", "{case}");
            accepted += 1;
        } else {
            assert_refused(&r, status, case);
        }
    }
    assert_eq!(h.resources.messages().await.len(), accepted);
}

fn with(payload: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(payload).unwrap();
    edit(&mut value);
    value.to_string()
}

#[tokio::test]
async fn hostile_values_baack() {
    let p = Baack::payload();
    let long = "u".repeat(3000);
    let trigger = |n: u32, edit: fn(&mut Value)| {
        with(&p, |v| {
            v["trigger"]["urn"] = format!("urn:baack:trigger:{n}").into();
            edit(v)
        })
    };
    hostile_values::<Baack>(vec![
        (
            "3,000-character trigger urn",
            with(&p, |v| v["trigger"]["urn"] = long.clone().into()),
            200,
        ),
        (
            "3,000-character subscription urn",
            with(&p, |v| v["subscription"]["urn"] = long.clone().into()),
            200,
        ),
        (
            "trigger urn with NUL",
            trigger(1, |v| v["trigger"]["urn"] = "urn:\u{0}".into()),
            200,
        ),
        (
            "trigger urn with U+FFFF",
            trigger(2, |v| v["trigger"]["urn"] = "urn:\u{FFFF}".into()),
            200,
        ),
        (
            "year 0 before UTC",
            trigger(3, |v| {
                v["trigger"]["timestamp"] = "0000-01-01T00:00:00+00:01".into()
            }),
            200,
        ),
        (
            "year 9999 after UTC",
            trigger(4, |v| {
                v["trigger"]["timestamp"] = "9999-12-31T23:59:59-00:01".into()
            }),
            200,
        ),
        (
            "3,000-character timestamp",
            trigger(5, |v| v["trigger"]["timestamp"] = "9".repeat(3000).into()),
            200,
        ),
        (
            "expiry in year 0",
            trigger(6, |v| {
                v["subscription"]["expirationTimestamp"] = "0000-01-01T00:00:00+00:01".into()
            }),
            200,
        ),
        (
            "expiry not a date",
            trigger(7, |v| {
                v["subscription"]["expirationTimestamp"] = "soon".into()
            }),
            200,
        ),
        (
            "expiry a number",
            trigger(12, |v| {
                v["subscription"]["expirationTimestamp"] = 1.5e300.into()
            }),
            200,
        ),
        (
            "empty subject and event",
            trigger(13, |v| {
                v["trigger"]["subject"] = "".into();
                v["trigger"]["event"] = "".into()
            }),
            200,
        ),
        (
            "3,000-character subject",
            trigger(8, |v| v["trigger"]["subject"] = "S".repeat(3000).into()),
            200,
        ),
        (
            "3,000-character v1.urn",
            trigger(9, |v| v["v1"]["urn"] = "urn".repeat(1000).into()),
            400,
        ),
        (
            "3,000-character v1.url",
            trigger(10, |v| v["v1"]["url"] = "/".repeat(3000).into()),
            400,
        ),
        (
            "v1.urn with a newline",
            trigger(11, |v| v["v1"]["urn"] = "urn:baack:x:\n".into()),
            400,
        ),
    ])
    .await;
}

#[tokio::test]
async fn hostile_values_midbound() {
    let p = Midbound::payload();
    let event = |id: &str, edit: &dyn Fn(&mut Value)| {
        with(&p, |v| {
            v["id"] = id.into();
            edit(v)
        })
    };
    hostile_values::<Midbound>(vec![
        (
            "3,000-character webhook-id",
            event(&"i".repeat(3000), &|_| {}),
            200,
        ),
        (
            "created before year 0",
            event("evt_1", &|v| v["created"] = (-62_167_219_200_001i64).into()),
            200,
        ),
        (
            "created i64::MAX",
            event("evt_2", &|v| v["created"] = i64::MAX.into()),
            200,
        ),
        (
            "created i64::MIN",
            event("evt_3", &|v| v["created"] = i64::MIN.into()),
            200,
        ),
        (
            "3,000-character type",
            event("evt_4", &|v| v["type"] = "t".repeat(3000).into()),
            200,
        ),
        (
            "type with a control character",
            event("evt_5", &|v| v["type"] = "identity.\u{1}".into()),
            200,
        ),
        (
            "empty type",
            event("evt_6", &|v| v["type"] = "".into()),
            200,
        ),
    ])
    .await;
}

#[tokio::test]
async fn hostile_values_clearid() {
    let p = ClearId::payload();
    let ordinal = |n: u64, edit: &dyn Fn(&mut Value)| {
        with(&p, |v| {
            v["Ordinal"] = n.into();
            edit(v)
        })
    };
    hostile_values::<ClearId>(vec![
        (
            "3,000-character ordinal",
            ordinal(1, &|v| v["Ordinal"] = "9".repeat(3000).into()),
            200,
        ),
        (
            "deleted in year 0",
            ordinal(2, &|v| {
                v["DeletionDateUtc"] = "0000-01-01T00:00:00+00:01".into()
            }),
            200,
        ),
        (
            "3,000-character AccountId",
            ordinal(3, &|v| v["AccountId"] = "a".repeat(3000).into()),
            400,
        ),
        (
            "3,000-character IdentityId",
            ordinal(4, &|v| v["IdentityId"] = "i".repeat(3000).into()),
            400,
        ),
        (
            "IdentityId with a bell",
            ordinal(5, &|v| v["IdentityId"] = "id\u{7}".into()),
            400,
        ),
    ])
    .await;
}

#[tokio::test]
async fn hostile_values_argyle() {
    let p = Argyle::payload();
    hostile_values::<Argyle>(vec![
        (
            "3,000-character event",
            with(&p, |v| v["event"] = "e".repeat(3000).into()),
            200,
        ),
        (
            "name with U+FFFE",
            with(&p, |v| v["name"] = "\u{FFFE}".into()),
            200,
        ),
        (
            "3,000-character identity",
            with(&p, |v| v["data"]["identity"] = "f".repeat(3000).into()),
            400,
        ),
        ("empty event", with(&p, |v| v["event"] = "".into()), 200),
    ])
    .await;
}
