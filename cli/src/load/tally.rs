//! What a load run saw: every answer's latency (an HDR histogram), the final status of each
//! delivery with the `status` its answer names, what was retried, and whether each new event
//! was accepted exactly once. Plain data: the sending lives in `load::run`.

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Unexpected answers described, at most; the rest are only counted.
const DESCRIBED: usize = 5;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer: its status and the `status` field of its JSON body ("-" when it has none).
    Http { status: u16, says: String },
    /// No answer: timed out, connection refused or broken.
    Failed(&'static str),
}

impl Answer {
    /// The `status` field of a receiver's JSON answer, bounded: a foreign server's body is
    /// never printed whole.
    pub fn http(status: u16, body: &[u8]) -> Self {
        let says = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("status")?
                    .as_str()
                    .map(|s| s.chars().take(40).collect())
            })
            .unwrap_or_else(|| "-".to_string());
        Self::Http { status, says }
    }

    /// The answers a provider retries: 503 (in progress, unavailable) and 429 (throttled).
    pub fn is_retried(&self) -> bool {
        matches!(
            self,
            Self::Http {
                status: 503 | 429,
                ..
            }
        )
    }

    fn key(&self) -> (String, String) {
        match self {
            Self::Http { status, says } => (status.to_string(), says.clone()),
            Self::Failed(what) => ("-".to_string(), what.to_string()),
        }
    }
}

/// One delivery, sent until it got an answer a provider would not retry.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub event: u64,
    pub repeat: bool,
    /// Every attempt's answer and how long it took, in order.
    pub attempts: Vec<(Answer, Duration)>,
}

#[derive(Debug)]
pub struct Tally {
    latency: Histogram<u64>,
    finals: BTreeMap<(String, String), u64>,
    retried: BTreeMap<(String, String), u64>,
    /// Per event: how many of its deliveries were answered "accepted".
    accepted: HashMap<u64, u32>,
    delivered: u64,
    repeats: u64,
    unexpected: u64,
    described: Vec<String>,
    /// Sends that waited for a free connection past their planned time.
    late: u64,
    max_lateness: Duration,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            // Microseconds, 1 µs to an hour, three significant digits.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            finals: BTreeMap::new(),
            retried: BTreeMap::new(),
            accepted: HashMap::new(),
            delivered: 0,
            repeats: 0,
            unexpected: 0,
            described: Vec::new(),
            late: 0,
            max_lateness: Duration::ZERO,
        }
    }
}

/// Later than this behind its planned time, a send counts as late.
pub const LATE: Duration = Duration::from_millis(5);

impl Tally {
    pub fn add(&mut self, delivered: Delivered) {
        self.delivered += 1;
        self.repeats += u64::from(delivered.repeat);
        for (_, took) in &delivered.attempts {
            let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
            self.latency.saturating_record(micros);
        }
        let (last, earlier) = delivered
            .attempts
            .split_last()
            .expect("one attempt at least");
        for (answer, _) in earlier {
            *self.retried.entry(answer.key()).or_default() += 1;
        }
        let answer = &last.0;
        *self.finals.entry(answer.key()).or_default() += 1;
        let accepted = self.accepted.entry(delivered.event).or_default();
        match answer {
            Answer::Http { status: 200, says } if says == "accepted" => *accepted += 1,
            Answer::Http { status: 200, says } if says == "duplicate" => {}
            other => {
                self.unexpected += 1;
                if self.described.len() < DESCRIBED {
                    let (status, says) = other.key();
                    let kind = if delivered.repeat { "repeat of" } else { "new" };
                    self.described.push(format!(
                        "{kind} event {}: {status} {says} after {} attempt(s)",
                        delivered.event,
                        delivered.attempts.len()
                    ));
                }
            }
        }
    }

    /// A send that started `lateness` after its planned time (unpaced runs plan none).
    pub fn started(&mut self, lateness: Duration) {
        if lateness > LATE {
            self.late += 1;
        }
        self.max_lateness = self.max_lateness.max(lateness);
    }

    /// The answer time at quantile `q`, in milliseconds (0 before any answer).
    pub fn latency_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// The one-line state of the run, for the progress bar.
    pub fn progress(&self) -> String {
        let statuses: Vec<String> = self
            .finals
            .iter()
            .map(|((status, says), n)| format!("{status} {says}: {n}"))
            .collect();
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, {}",
            self.latency_ms(0.5),
            self.latency_ms(0.99),
            statuses.join(", ")
        )
    }

    /// Everything that makes the run fail: answers a provider would not take as delivered,
    /// events never accepted or accepted twice (the receiver deduplicated nothing, or lost
    /// one). Only events whose every delivery ended in a 200 are judged on acceptance.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.unexpected > 0 {
            failures.push(format!(
                "{} deliveries not answered 200 accepted/duplicate: {}{}",
                self.unexpected,
                self.described.join("; "),
                if self.unexpected as usize > self.described.len() {
                    "; ..."
                } else {
                    ""
                }
            ));
        }
        if self.unexpected == 0 {
            let twice = self.accepted.values().filter(|n| **n > 1).count();
            let never = self.accepted.values().filter(|n| **n == 0).count();
            if twice > 0 {
                failures.push(format!(
                    "{twice} events answered \"accepted\" more than once: repeats were not \
                     recognized as duplicates"
                ));
            }
            if never > 0 {
                failures.push(format!(
                    "{never} events never answered \"accepted\", only \"duplicate\": they were \
                     already stored before this run"
                ));
            }
        }
        failures
    }

    pub fn summary(&self, elapsed: Duration, rate: f64) -> Summary<'_> {
        Summary {
            tally: self,
            elapsed,
            rate,
            failures: self.failures(),
        }
    }
}

/// The closing report of a run.
pub struct Summary<'a> {
    tally: &'a Tally,
    elapsed: Duration,
    /// The rate asked for.
    rate: f64,
    /// What makes the run fail ([`Tally::failures`]), for the report and the exit status alike.
    pub failures: Vec<String>,
}

impl Summary<'_> {
    fn per_second(&self) -> f64 {
        self.tally.delivered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn json(&self) -> Value {
        let t = self.tally;
        let counts = |map: &BTreeMap<(String, String), u64>| -> Vec<Value> {
            map.iter()
                .map(|((status, says), n)| json!({"status": status, "answer": says, "deliveries": n}))
                .collect()
        };
        json!({
            "deliveries": t.delivered,
            "new_events": t.accepted.len(),
            "repeats": t.repeats,
            "seconds": round(self.elapsed.as_secs_f64(), 3),
            "target_per_second": self.rate.is_finite().then_some(self.rate),
            "per_second": round(self.per_second(), 1),
            "latency_ms": {
                "p50": t.latency_ms(0.5), "p90": t.latency_ms(0.9),
                "p99": t.latency_ms(0.99), "max": t.latency.max() as f64 / 1000.0,
            },
            "answers": counts(&t.finals),
            "retried": counts(&t.retried),
            "late_sends": t.late,
            "max_lateness_ms": round(t.max_lateness.as_secs_f64() * 1000.0, 1),
            "failures": self.failures,
        })
    }

    pub fn table(&self) -> String {
        let t = self.tally;
        let ms = |q: f64| format!("{:.1}", t.latency_ms(q));
        let mut text = crate::table::render(
            [
                "DELIVERIES",
                "NEW EVENTS",
                "REPEATS",
                "SECONDS",
                "PER SECOND",
                "P50 MS",
                "P90 MS",
                "P99 MS",
                "MAX MS",
            ],
            &[[
                t.delivered.to_string(),
                t.accepted.len().to_string(),
                t.repeats.to_string(),
                format!("{:.2}", self.elapsed.as_secs_f64()),
                format!("{:.1}", self.per_second()),
                ms(0.5),
                ms(0.9),
                ms(0.99),
                format!("{:.1}", t.latency.max() as f64 / 1000.0),
            ]],
        );
        text.push('\n');
        let mut rows: Vec<[String; 3]> = t
            .finals
            .iter()
            .map(|((status, says), n)| [status.clone(), says.clone(), n.to_string()])
            .collect();
        rows.extend(t.retried.iter().map(|((status, says), n)| {
            [status.clone(), format!("{says} (retried)"), n.to_string()]
        }));
        text.push_str(&crate::table::render(["STATUS", "ANSWER", "COUNT"], &rows));
        if t.late > 0 && self.rate.is_finite() {
            text.push_str(&format!(
                "\n{} sends started more than {} ms late (at most {:.0} ms) waiting for a free \
                 connection: the target's answers, not the {} per second asked for, set the pace; \
                 raise --concurrency to keep it\n",
                t.late,
                LATE.as_millis(),
                t.max_lateness.as_secs_f64() * 1000.0,
                self.rate
            ));
        }
        text
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(says: &str) -> (Answer, Duration) {
        (
            Answer::Http {
                status: 200,
                says: says.into(),
            },
            Duration::from_millis(2),
        )
    }

    fn delivered(event: u64, repeat: bool, attempts: Vec<(Answer, Duration)>) -> Delivered {
        Delivered {
            event,
            repeat,
            attempts,
        }
    }

    #[test]
    fn one_acceptance_per_event_passes() {
        let mut tally = Tally::default();
        tally.add(delivered(0, false, vec![ok("accepted")]));
        let in_progress = Answer::http(503, br#"{"status":"in_progress"}"#);
        tally.add(delivered(
            0,
            true,
            vec![(in_progress, Duration::from_millis(1)), ok("duplicate")],
        ));
        tally.add(delivered(1, false, vec![ok("accepted")]));
        assert!(tally.failures().is_empty(), "{:?}", tally.failures());
        let json = tally.summary(Duration::from_secs(1), 3.0).json();
        assert_eq!(json["deliveries"], 3);
        assert_eq!(json["new_events"], 2);
        assert_eq!(json["repeats"], 1);
        assert_eq!(
            json["answers"],
            json!([{"status": "200", "answer": "accepted", "deliveries": 2},
                   {"status": "200", "answer": "duplicate", "deliveries": 1}])
        );
        assert_eq!(
            json["retried"],
            json!([{"status": "503", "answer": "in_progress", "deliveries": 1}])
        );
    }

    #[test]
    fn double_acceptance_and_refusals_fail_the_run() {
        let mut tally = Tally::default();
        tally.add(delivered(0, false, vec![ok("accepted")]));
        tally.add(delivered(0, true, vec![ok("accepted")]));
        assert!(tally.failures()[0].contains("more than once"));

        let mut tally = Tally::default();
        let refused = Answer::http(401, br#"{"status":"rejected","error":"unauthorized"}"#);
        tally.add(delivered(
            0,
            false,
            vec![(refused, Duration::from_millis(1))],
        ));
        tally.add(delivered(
            1,
            false,
            vec![(Answer::Failed("timed out"), Duration::from_secs(30))],
        ));
        let failures = tally.failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].starts_with("2 deliveries not answered"),
            "{failures:?}"
        );
        assert!(failures[0].contains("401 rejected"), "{failures:?}");
        assert!(failures[0].contains("timed out"), "{failures:?}");
    }

    #[test]
    fn a_foreign_answer_is_named_by_status_only() {
        assert_eq!(
            Answer::http(502, b"<html>Bad gateway</html>"),
            Answer::Http {
                status: 502,
                says: "-".into()
            }
        );
        let long = format!(r#"{{"status":"{}"}}"#, "x".repeat(500));
        let Answer::Http { says, .. } = Answer::http(200, long.as_bytes()) else {
            unreachable!()
        };
        assert_eq!(says.len(), 40);
        assert!(Answer::http(429, b"{}").is_retried());
        assert!(!Answer::http(500, b"{}").is_retried());
    }
}
