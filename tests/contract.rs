//! The behaviour every provider function owes, run for each of the four against the emulator.

use hookline::digest::sha256_hex;
use integration_tests::aws::{n, s};
use integration_tests::samples::now;
use integration_tests::{Event, Harness, Sample, Shape};
use serde_json::Value;

fn provider_name<S: Sample>() -> &'static str {
    <S as hookline::Provider>::NAME
}

async fn valid_delivery_is_stored_and_queued_once<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let before = now();
    let r = h.send(h.signed(&body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.status_field(), "accepted");
    let event_id = S::event_id(&body);
    assert_eq!(r.body["event_id"], event_id.as_str());

    let item = h.resources.item(&event_id).await.expect("stored item");
    assert_eq!(s(&item, "status"), "ENQUEUED");
    assert_eq!(s(&item, "provider"), provider_name::<S>());
    assert_eq!(s(&item, "event_type"), S::event_type());
    assert_eq!(s(&item, "payload_sha256"), sha256_hex(body.as_bytes()));
    let received_at = n(&item, "received_at");
    assert!(received_at >= before && received_at <= now());
    let retention = <S as hookline::Provider>::DEFAULT_RETENTION_SECONDS as i64;
    assert_eq!(n(&item, "expires_at"), received_at + retention);
    assert!(
        !item.contains_key("lease_expires_at"),
        "lease cleared once enqueued"
    );

    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.body["version"], 1);
    assert_eq!(m.body["event_id"], event_id.as_str());
    assert_eq!(m.body["provider"], provider_name::<S>());
    assert_eq!(m.body["event_type"], S::event_type());
    assert_eq!(m.body["recognized"], true);
    assert!(m.body["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        m.body.get("occurred_at").cloned().unwrap_or(Value::Null),
        S::occurred_at()
    );
    assert_eq!(
        m.body.get("resource").cloned().unwrap_or(Value::Null),
        S::resource()
    );
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m.body["payload"], payload);
    assert_eq!(m.attributes["provider"], provider_name::<S>());
    assert_eq!(m.attributes["event_type"], S::event_type());
}

async fn duplicate_answers_200_and_sends_nothing<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    assert_eq!(h.send(h.signed(&body)).await.status_field(), "accepted");
    let again = h.send(h.signed(&body)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.status_field(), "duplicate");
    assert_eq!(again.body["event_id"], S::event_id(&body).as_str());
    assert_eq!(h.resources.messages().await.len(), 1);
    assert_eq!(h.resources.item_count().await, 1);
}

async fn older_rotated_secret_is_still_accepted<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let r = h
        .send(Event::new(&S::headers(S::SECRETS[0], &body), &body).query(S::QUERY))
        .await;
    r.expect(200, "accepted");
    assert_eq!(h.resources.messages().await.len(), 1);
}

async fn tampered_body_is_unauthorized<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let tampered = body.replacen('1', "2", 1);
    assert_ne!(tampered, body);
    let r = h
        .send(Event::new(&S::headers(S::SECRETS[1], &body), &tampered).query(S::QUERY))
        .await;
    // Token schemes do not sign the body: for them a tampered body is a new, valid delivery.
    let signs_body = matches!(provider_name::<S>(), "argyle" | "midbound");
    if signs_body {
        assert_eq!(r.status, 401, "{:?}", r.body);
        assert_eq!(
            r.body,
            serde_json::json!({"status": "rejected", "error": "unauthorized"})
        );
        h.assert_untouched().await;
    } else {
        assert_eq!(r.status, 200);
    }
}

async fn wrong_or_missing_credentials_are_unauthorized<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let wrong = S::headers("whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0xMjM0NTY=", &body);
    let r = h.send(Event::new(&wrong, &body).query(S::QUERY)).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert_eq!(r.body["error"], "unauthorized");
    let r = h.send(Event::new(&[], &body).query(S::QUERY)).await;
    assert_eq!(r.status, 401);
    assert!(!r.body.to_string().contains(S::SECRETS[1]));
    h.assert_untouched().await;
}

async fn malformed_json_is_a_400<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = "{\"not\": json";
    let r = h.send(h.signed(body)).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.status_field(), "rejected");
    assert!(r.body["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid payload at body"));
    h.assert_untouched().await;
}

async fn wrong_shape_names_the_field<S: Sample>() {
    let h = Harness::<S>::new().await;
    let (body, field) = S::missing_field_payload();
    let r = h.send(h.signed(&body)).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let error = r.body["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("invalid payload at {field}: missing field")),
        "{error}"
    );
    h.assert_untouched().await;
}

async fn base64_body_is_decoded_before_verifying<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let r = h.send(h.signed(&body).base64()).await;
    r.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].body["payload"],
        serde_json::from_str::<Value>(&body).unwrap()
    );
}

async fn malformed_base64_is_a_400<S: Sample>() {
    let h = Harness::<S>::new().await;
    let r = h
        .send(h.signed("{}").raw_base64_body("%%% not base64 %%%"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "body is not valid base64");
    h.assert_untouched().await;
}

async fn every_event_shape_is_served<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let mut statuses = Vec::new();
    for shape in [Shape::RestApi, Shape::HttpApi, Shape::FunctionUrl] {
        let r = h.send(h.signed(&body).shape(shape)).await;
        assert_eq!(r.status, 200, "{shape:?}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"));
        statuses.push(r.status_field().to_string());
    }
    assert_eq!(statuses, ["accepted", "duplicate", "duplicate"]);
    assert_eq!(h.resources.messages().await.len(), 1);
}

async fn unknown_event_type_is_accepted_and_flagged<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::unknown_event_payload();
    let event =
        Event::new(&S::headers(S::SECRETS[1], &body), &body).query(S::unknown_event_query());
    let r = h.send(event).await;
    r.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body["recognized"], false);
    assert_ne!(messages[0].body["event_type"], S::event_type());
}

async fn only_post_is_allowed<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    for method in ["GET", "PUT"] {
        let r = h.send(h.signed(&body).method(method)).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("POST"));
    }
    h.assert_untouched().await;
}

async fn oversized_body_is_a_413<S: Sample>() {
    let h = Harness::<S>::with(false, &[("MAX_BODY_BYTES", "64".to_string())]).await;
    let body = S::payload();
    assert!(body.len() > 64);
    let r = h.send(h.signed(&body)).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["error"], "body exceeds the 64 byte limit");
    let r = h.send(h.signed(&body).base64()).await;
    assert_eq!(r.status, 413);
    h.assert_untouched().await;
}

// The contract, for every provider of the registry: `<provider>::<test>`.
hookline::for_each_provider!(mod |P| {
    #[tokio::test]
    async fn valid_delivery_is_stored_and_queued_once() {
        super::valid_delivery_is_stored_and_queued_once::<P>().await
    }
    #[tokio::test]
    async fn duplicate_answers_200_and_sends_nothing() {
        super::duplicate_answers_200_and_sends_nothing::<P>().await
    }
    #[tokio::test]
    async fn older_rotated_secret_is_still_accepted() {
        super::older_rotated_secret_is_still_accepted::<P>().await
    }
    #[tokio::test]
    async fn tampered_body_is_unauthorized() {
        super::tampered_body_is_unauthorized::<P>().await
    }
    #[tokio::test]
    async fn wrong_or_missing_credentials_are_unauthorized() {
        super::wrong_or_missing_credentials_are_unauthorized::<P>().await
    }
    #[tokio::test]
    async fn malformed_json_is_a_400() {
        super::malformed_json_is_a_400::<P>().await
    }
    #[tokio::test]
    async fn wrong_shape_names_the_field() {
        super::wrong_shape_names_the_field::<P>().await
    }
    #[tokio::test]
    async fn base64_body_is_decoded_before_verifying() {
        super::base64_body_is_decoded_before_verifying::<P>().await
    }
    #[tokio::test]
    async fn malformed_base64_is_a_400() {
        super::malformed_base64_is_a_400::<P>().await
    }
    #[tokio::test]
    async fn every_event_shape_is_served() {
        super::every_event_shape_is_served::<P>().await
    }
    #[tokio::test]
    async fn unknown_event_type_is_accepted_and_flagged() {
        super::unknown_event_type_is_accepted_and_flagged::<P>().await
    }
    #[tokio::test]
    async fn only_post_is_allowed() {
        super::only_post_is_allowed::<P>().await
    }
    #[tokio::test]
    async fn oversized_body_is_a_413() {
        super::oversized_body_is_a_413::<P>().await
    }
});
