//! CloudWatch metrics in Embedded Metric Format: a JSON document per line on stdout, which
//! CloudWatch Logs turns into metrics. No API call, so nothing to wait for and nothing to fail.
//!
//! What is counted (namespace `METRICS_NAMESPACE`, `Hookline` by default; by `Provider`, and by
//! nothing for the totals alarms read; rejections and failures also by `Provider` and `Reason`): per delivery `Accepted`, `Duplicate`, `InProgress`, `Conflict`, `Failed`,
//! `Rejected`; per queue message `Enriched`, `Tombstoned`, `Stale`, `EnrichmentFailed`; per sweep
//! `StrandedFound`, `StrandedResent`, `StrandedFailed`. The dashboard and alarms in
//! `template.yaml` read these names.

use crate::limits::{bounded, MAX_KEY_BYTES};
use crate::pipeline::{Handled, Outcome};
use crate::provider::Subscription;
use crate::rejection::Rejection;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

pub const DEFAULT_NAMESPACE: &str = "Hookline";

/// `METRICS_NAMESPACE`, read once: the template gives each stack its own, so that two
/// deployments in one account do not add up.
pub fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE")
            .ok()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    })
}
/// Every metric name this crate writes (the template's dashboard and alarms use these).
pub const NAMES: [&str; 14] = [
    "Accepted",
    "Duplicate",
    "InProgress",
    "Conflict",
    "Failed",
    "Rejected",
    "Enriched",
    "Tombstoned",
    "Stale",
    "EnrichmentFailed",
    "StrandedFound",
    "StrandedResent",
    "StrandedFailed",
    "SubscriptionHoursLeft",
];

/// The tracing target of metric events; `logging` writes them whatever the log level.
pub(crate) const TARGET: &str = "hookline::metrics";
/// The field of a metric event holding the document.
pub(crate) const FIELD: &str = "emf";

/// An EMF document: `metrics` (name, count) aggregated by each of `dimension_sets`, whose names
/// take their values from `dimensions`; `properties` are searchable in the logs, not dimensions.
pub fn document(
    metrics: &[(&str, u64)],
    dimensions: &[(&str, &str)],
    dimension_sets: &[&[&str]],
    properties: &[(&str, &str)],
    timestamp_ms: i64,
) -> Value {
    let metrics: Vec<(&str, Value)> = metrics.iter().map(|(n, c)| (*n, (*c).into())).collect();
    measures(
        &metrics,
        "Count",
        dimensions,
        dimension_sets,
        properties,
        timestamp_ms,
    )
}

/// [`document`] for any values, all in `unit` (EMF's unit names: `Count`, `None`, ...).
fn measures(
    metrics: &[(&str, Value)],
    unit: &str,
    dimensions: &[(&str, &str)],
    dimension_sets: &[&[&str]],
    properties: &[(&str, &str)],
    timestamp_ms: i64,
) -> Value {
    debug_assert!(metrics.iter().all(|(name, _)| NAMES.contains(name)));
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": dimension_sets,
                "Metrics": definitions,
            }],
        }),
    );
    for (name, value) in dimensions.iter().chain(properties) {
        root.insert((*name).into(), (*value).into());
    }
    for (name, value) in metrics {
        root.insert((*name).into(), value.clone());
    }
    Value::Object(root)
}

/// Writes a document (through the log writer: see `logging`).
pub fn emit(document: &Value) {
    tracing::info!(target: TARGET, emf = document.to_string().as_str());
}

/// The count of one delivery: its outcome, or why it was refused.
pub fn delivery(provider: &str, result: &Result<Handled, Rejection>, now: i64) -> Value {
    let timestamp_ms = now.saturating_mul(1000);
    let (metric, event_id) = match result {
        Err(rejection) => {
            return document(
                &[("Rejected", 1)],
                &[("Provider", provider), ("Reason", rejection.reason())],
                &[&["Provider"], &["Provider", "Reason"], &[]],
                &[],
                timestamp_ms,
            )
        }
        Ok(handled) => (
            match handled.outcome {
                Outcome::Accepted => "Accepted",
                Outcome::Duplicate => "Duplicate",
                Outcome::InProgress { .. } => "InProgress",
                Outcome::Conflict => "Conflict",
                Outcome::Unavailable { .. } => "Failed",
            },
            handled.event_id.as_str(),
        ),
    };
    document(
        &[(metric, 1)],
        &[("Provider", provider)],
        &[&["Provider"], &[]],
        &[("event_id", event_id)],
        timestamp_ms,
    )
}

/// Hours until a delivery's subscription lapses (negative once it has), by subscription and,
/// for the alarm's minimum, in total. Written with every delivery that says it, at no cost.
pub fn subscription(
    provider: &str,
    event_id: &str,
    subscription: &Subscription,
    now: i64,
) -> Value {
    let hours = subscription.expires_at.saturating_sub(now) as f64 / 3600.0;
    // One decimal: six minutes is finer than any alarm threshold needs.
    let hours = (hours * 10.0).round() / 10.0;
    // A dimension value has limits of its own (1,024 characters); subscription ids are urns.
    let id = bounded(&subscription.id, MAX_KEY_BYTES);
    measures(
        &[("SubscriptionHoursLeft", json!(hours))],
        "None",
        &[("Provider", provider), ("Subscription", &id)],
        &[&["Provider", "Subscription"], &[]],
        &[("event_id", event_id)],
        now.saturating_mul(1000),
    )
}

/// What became of one queue message, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrichment {
    Enriched,
    Tombstoned,
    Stale,
    /// Not enriched, for this reason (`Reason` dimension).
    Failed {
        reason: &'static str,
    },
}

/// The count of one enriched (or not) queue message.
pub fn enrichment(provider: &str, counted: Enrichment, timestamp_ms: i64) -> Value {
    let metric = match counted {
        Enrichment::Enriched => "Enriched",
        Enrichment::Tombstoned => "Tombstoned",
        Enrichment::Stale => "Stale",
        Enrichment::Failed { reason } => {
            return document(
                &[("EnrichmentFailed", 1)],
                &[("Provider", provider), ("Reason", reason)],
                &[&["Provider"], &["Provider", "Reason"], &[]],
                &[],
                timestamp_ms,
            );
        }
    };
    document(
        &[(metric, 1)],
        &[("Provider", provider)],
        &[&["Provider"], &[]],
        &[],
        timestamp_ms,
    )
}

/// The counts of one sweep: stranded handoffs found, sent again, and failed to send (no
/// dimension: one sweeper serves every provider).
pub fn sweep(found: usize, resent: usize, failed: usize, now: i64) -> Value {
    document(
        &[
            ("StrandedFound", found as u64),
            ("StrandedResent", resent as u64),
            ("StrandedFailed", failed as u64),
        ],
        &[],
        &[&[]],
        &[],
        now.saturating_mul(1000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::AuthFailure;

    fn handled(outcome: Outcome) -> Result<Handled, Rejection> {
        Ok(Handled {
            event_id: "argyle#k".into(),
            event_type: "identities.added".into(),
            recognized: true,
            subscription: None,
            outcome,
        })
    }

    #[test]
    fn an_accepted_delivery_is_one_count_by_provider() {
        assert_eq!(
            delivery("argyle", &handled(Outcome::Accepted), 1_800_000_000),
            json!({
                "_aws": {
                    "Timestamp": 1_800_000_000_000i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Hookline",
                        "Dimensions": [["Provider"], []],
                        "Metrics": [{"Name": "Accepted", "Unit": "Count"}],
                    }],
                },
                "Provider": "argyle",
                "event_id": "argyle#k",
                "Accepted": 1,
            })
        );
    }

    #[test]
    fn every_outcome_has_its_metric() {
        let name = |doc: Value| doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"].clone();
        for (outcome, metric) in [
            (Outcome::Duplicate, "Duplicate"),
            (
                Outcome::InProgress {
                    retry_after_seconds: 3,
                },
                "InProgress",
            ),
            (Outcome::Conflict, "Conflict"),
            (
                Outcome::Unavailable {
                    reason: "queue".into(),
                },
                "Failed",
            ),
        ] {
            let doc = delivery("baack", &handled(outcome), 0);
            assert_eq!(name(doc.clone()), metric);
            assert_eq!(doc[metric], 1);
        }
    }

    #[test]
    fn a_subscription_reports_its_hours_left_by_id_and_in_total() {
        let subscription = Subscription {
            id: "urn:baack:webhooksubscription:9".into(),
            expires_at: 1_800_000_000 + 72 * 3600 + 360,
        };
        let doc = super::subscription("baack", "baack#k", &subscription, 1_800_000_000);
        assert_eq!(doc["event_id"], "baack#k");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0],
            json!({
                "Namespace": "Hookline",
                "Dimensions": [["Provider", "Subscription"], []],
                "Metrics": [{"Name": "SubscriptionHoursLeft", "Unit": "None"}],
            })
        );
        assert_eq!(doc["SubscriptionHoursLeft"], json!(72.1));
        assert_eq!(doc["Subscription"], "urn:baack:webhooksubscription:9");
        let lapsed = Subscription {
            expires_at: 1_800_000_000 - 1800,
            ..subscription
        };
        let doc = super::subscription("baack", "baack#k", &lapsed, 1_800_000_000);
        assert_eq!(doc["SubscriptionHoursLeft"], json!(-0.5));
    }

    #[test]
    fn rejections_are_counted_by_reason_too() {
        let doc = delivery(
            "midbound",
            &Err(Rejection::Unauthorized(AuthFailure::NoMatch)),
            0,
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Provider"], ["Provider", "Reason"], []])
        );
        assert_eq!(
            (&doc["Provider"], &doc["Reason"], &doc["Rejected"]),
            (&json!("midbound"), &json!("bad_signature"), &json!(1))
        );
    }

    #[test]
    fn enrichment_outcomes_and_failure_reasons() {
        let doc = enrichment("clearid", Enrichment::Tombstoned, 5);
        assert_eq!(
            (&doc["Tombstoned"], &doc["Provider"]),
            (&json!(1), &json!("clearid"))
        );
        let failed = Enrichment::Failed {
            reason: "api_retryable",
        };
        let doc = enrichment("baack", failed, 5);
        assert_eq!(
            (&doc["EnrichmentFailed"], &doc["Reason"]),
            (&json!(1), &json!("api_retryable"))
        );
    }

    #[test]
    fn a_sweep_reports_its_three_counts_without_dimensions() {
        let doc = sweep(3, 2, 1, 1);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(
            (
                &doc["StrandedFound"],
                &doc["StrandedResent"],
                &doc["StrandedFailed"]
            ),
            (&json!(3), &json!(2), &json!(1))
        );
    }
}
