//! The enricher as deployed, on a test's table, with every provider's API at one local server.

use crate::aws::Resources;
use hookline::enrich::{enricher_from_config, Enricher, EnricherConfig};

/// Test credentials for every provider; the APIs at `api_uri` (a wiremock server).
pub async fn enricher_for(resources: &Resources, api_uri: &str) -> Enricher {
    enricher_with(resources, api_uri, &[]).await
}

/// As [`enricher_for`], with `overrides` replacing or adding variables.
pub async fn enricher_with(
    resources: &Resources,
    api_uri: &str,
    overrides: &[(&str, String)],
) -> Enricher {
    let defaults = [
        ("EVENTS_TABLE", resources.table.clone()),
        ("HISTORY_TABLE", resources.history_table.clone()),
        ("IDENTITIES_TABLE", resources.identities_table.clone()),
        ("EVENT_BUS_NAME", resources.event_bus.clone()),
        ("BAACK_API_BASE", api_uri.to_string()),
        ("BAACK_API_TOKEN", "baack-api-token".into()),
        ("ARGYLE_API_BASE", api_uri.to_string()),
        ("ARGYLE_API_KEY_ID", "argyle-key-id".into()),
        ("ARGYLE_API_KEY_SECRET", "argyle-key-secret".into()),
        ("CLEARID_API_BASE", api_uri.to_string()),
        ("CLEARID_TOKEN_URL", format!("{api_uri}/connect/token")),
        ("CLEARID_CLIENT_ID", "clearid-client".into()),
        ("CLEARID_CLIENT_SECRET", "clearid-client-secret".into()),
        ("HTTP_TIMEOUT_SECONDS", "2".into()),
        ("HTTP_MAX_ATTEMPTS", "3".into()),
    ];
    let config = EnricherConfig::from_lookup(|name| {
        overrides
            .iter()
            .chain(defaults.iter())
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("enricher configuration");
    enricher_from_config(&config, &resources.sdk)
        .await
        .expect("enricher")
}

/// One poll of the queue as Lambda's event source mapping makes it, handled and settled;
/// returns how many messages the batch had and how many failed.
pub async fn drain_once(resources: &Resources, enricher: &Enricher) -> (usize, usize) {
    let event = resources.receive_event(30).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let response = enricher.handle_batch(&event, deadline).await;
    resources.settle(&event, &response).await;
    (event.records.len(), response.batch_item_failures.len())
}

/// As [`drain_once`], returning the bodies the batch took (byte for byte, as the queue held
/// them) and how many of them failed.
pub async fn take_once(resources: &Resources, enricher: &Enricher) -> (Vec<String>, usize) {
    let event = resources.receive_event(30).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let response = enricher.handle_batch(&event, deadline).await;
    resources.settle(&event, &response).await;
    let bodies = event
        .records
        .iter()
        .map(|record| record.body.clone().unwrap_or_default())
        .collect();
    (bodies, response.batch_item_failures.len())
}

/// A queue message body as ingestion writes it (`resource` left out when null).
pub fn envelope(
    provider: &str,
    event_id: &str,
    event_type: &str,
    resource: serde_json::Value,
    payload: serde_json::Value,
) -> String {
    let mut envelope = serde_json::json!({
        "version": 1, "event_id": event_id, "provider": provider, "event_type": event_type,
        "recognized": true, "received_at": "2026-11-23T10:00:00Z", "payload": payload
    });
    if !resource.is_null() {
        envelope["resource"] = resource;
    }
    envelope.to_string()
}
