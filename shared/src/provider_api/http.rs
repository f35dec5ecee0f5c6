//! The one HTTP client of the enricher: timeouts, and retries with jittered backoff on 429 and
//! 5xx, honouring `Retry-After`, all within the Lambda's remaining time.
//!
//! Everything a provider's answer decides (how long to wait, how long a token lives) goes through
//! the small pure functions at the end of this file, which never overflow: a hostile or broken
//! header must fail one message, not panic the whole batch.
//!
//! Error strings name what failed (timed out, connection failed, 503 after 4 attempts), never
//! the URL: its path carries account and identity ids.

use super::FetchError;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{RequestBuilder, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The longest pause a `Retry-After` imposes on the other calls to the same provider. A warm
/// instance outlives its invocation: an absurd header must not silence a provider for hours,
/// while every message it fails fast counts towards the dead-letter queue.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// The longest an OAuth2 token is cached, whatever `expires_in` says (ClearID's last ~1 h).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What a token response without (a readable) `expires_in` is taken to last.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The largest answer read from a provider, an identity or a token response. An identity record
/// holds at most the enricher's `MAX_DATA_BYTES` (DynamoDB's 400 KB item) and a change event carrying
/// data fits EventBridge's 256 KB, so a larger answer could never be stored or sent; the identities
/// the providers document are a few KB, a token response a few hundred bytes. Reading stops here,
/// so a misbehaving endpoint cannot exhaust the function's memory and fail its whole batch.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How an API call that reached the provider ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiResponse {
    Json(serde_json::Value),
    NotFound,
    /// 401 or 403: the credentials are wrong or expired.
    Unauthorized,
}

/// A clone is the same client: same connection pool, same pause.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    /// `HTTP_TIMEOUT_SECONDS`: a request's own timeout replaces the client's, so each request
    /// is given the smaller of this and the time left.
    request_timeout: Duration,
    max_attempts: u32,
    /// Until when the provider asked to be left alone (`Retry-After` on a 429 or 5xx). Shared by
    /// every call to that provider: the other messages of a batch wait too instead of each
    /// spending an attempt on a throttled API (a first sync queues hundreds at once).
    paused_until: Arc<Mutex<Option<Instant>>>,
}

/// Credentials for one request.
pub enum Auth<'a> {
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

impl ApiClient {
    pub fn new(request_timeout: Duration, max_attempts: u32) -> Self {
        let http = reqwest::Client::builder()
            .timeout(request_timeout)
            .connect_timeout(request_timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("hookline-enricher/", env!("CARGO_PKG_VERSION")))
            // A redirect would send our credentials' request to a URL nobody checked (the
            // provider's APIs do not redirect): a 3xx is a failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls builds");
        Self {
            http,
            request_timeout,
            max_attempts: max_attempts.max(1),
            paused_until: Arc::default(),
        }
    }

    /// The same connection pool and settings with a pause of its own: one per provider, so that
    /// one provider's throttling does not hold back the others.
    pub fn independent(&self) -> Self {
        Self {
            http: self.http.clone(),
            request_timeout: self.request_timeout,
            max_attempts: self.max_attempts,
            paused_until: Arc::default(),
        }
    }

    pub async fn get_json(
        &self,
        url: &str,
        auth: Auth<'_>,
        deadline: Instant,
    ) -> Result<ApiResponse, FetchError> {
        self.send(deadline, || {
            let request = self.http.get(url).header("accept", "application/json");
            match auth {
                Auth::Bearer(token) => request.bearer_auth(token),
                Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            }
        })
        .await
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<ApiResponse, FetchError> {
        self.send(deadline, || self.http.post(url).form(form)).await
    }

    async fn send(
        &self,
        deadline: Instant,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<ApiResponse, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_out_pause(deadline).await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::Retryable("out of time before the call".into()));
            }
            let last = attempt >= self.max_attempts;
            // What went wrong with this attempt, for the error if no later one succeeds.
            let timeout = remaining.min(self.request_timeout);
            let (failure, wait) = match request().timeout(timeout).send().await {
                Err(e) => (describe(&e), backoff(attempt)),
                Ok(response) => {
                    let status = response.status();
                    match status {
                        s if s.is_success() => {
                            let bytes = read_capped(response).await?;
                            return serde_json::from_slice(&bytes)
                                .map(ApiResponse::Json)
                                .map_err(|_| {
                                    FetchError::Permanent(format!("{status}: body is not JSON"))
                                });
                        }
                        StatusCode::NOT_FOUND => return Ok(ApiResponse::NotFound),
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                            return Ok(ApiResponse::Unauthorized)
                        }
                        s if s.is_redirection() => {
                            // Its Location is not repeated: it may carry ids too.
                            return Err(FetchError::Permanent(format!(
                                "{status}: redirects are not followed"
                            )));
                        }
                        s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                            let header = response.headers().get(reqwest::header::RETRY_AFTER);
                            let wait = match header.and_then(|v| retry_after(v.as_bytes())) {
                                Some(wait) => {
                                    self.pause(Instant::now(), wait);
                                    wait
                                }
                                None => backoff(attempt),
                            };
                            (status.to_string(), wait)
                        }
                        _ => return Err(FetchError::Permanent(format!("{status}"))),
                    }
                }
            };
            if last {
                return Err(FetchError::Retryable(format!(
                    "{failure} after {attempt} attempts"
                )));
            }
            match wake_at(Instant::now(), wait, deadline) {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => {
                    return Err(FetchError::Retryable(format!(
                        "{failure}; no time left to wait {}s for attempt {}",
                        wait.as_secs(),
                        attempt + 1
                    )))
                }
            }
        }
    }

    /// Remembers that the provider asked for `wait` from `now` (capped at [`MAX_PAUSE`]); the
    /// later of two pauses wins.
    fn pause(&self, now: Instant, wait: Duration) {
        let Some(until) = now.checked_add(wait.min(MAX_PAUSE)) else {
            return;
        };
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Sleeps until the provider's pause is over; a pause that outlasts the deadline fails the
    /// call at once (retryable) without spending an attempt on the provider.
    async fn wait_out_pause(&self, deadline: Instant) -> Result<(), FetchError> {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        let Some(until) = until else { return Ok(()) };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        if until >= deadline {
            return Err(FetchError::Retryable(
                "the provider asked to wait past the deadline".into(),
            ));
        }
        tokio::time::sleep_until(until.into()).await;
        Ok(())
    }
}

/// A successful answer's body, up to [`MAX_RESPONSE_BYTES`]. A larger one is a permanent failure
/// (the provider will send the same again): refused on its `Content-Length` before any of it is
/// read, or, without one, as soon as the chunks read so far pass the cap; the rest is never read.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    let status = response.status();
    let too_large = || {
        FetchError::Permanent(format!(
            "{status}: the answer is larger than {MAX_RESPONSE_BYTES} bytes"
        ))
    };
    let stated = response.content_length();
    if stated.is_some_and(|length| length > MAX_RESPONSE_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(stated.unwrap_or_default() as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Retryable(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Full jitter: a random wait up to the exponential bound, so retrying callers spread out.
fn backoff(attempt: u32) -> Duration {
    let bound = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(BACKOFF_CAP);
    bound.mul_f64(fastrand::f64())
}

/// A `Retry-After` value in seconds. A number too large for `u64` still means "not soon", so it
/// saturates rather than falling back to a short backoff. The HTTP-date form (rare for APIs),
/// negative or fractional numbers and anything else give `None`: the caller backs off instead.
pub fn retry_after(value: &[u8]) -> Option<Duration> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    Some(Duration::from_secs(seconds.unwrap_or(u64::MAX)))
}

/// When to wake up after waiting `wait` from `now`, if that is still before `deadline`; `None`
/// means no time is left (including a wait too long to represent as an `Instant`).
pub fn wake_at(now: Instant, wait: Duration, deadline: Instant) -> Option<Instant> {
    now.checked_add(wait).filter(|at| *at < deadline)
}

/// How long an OAuth2 token lives, from its response's `expires_in`: whole seconds as a number
/// or a numeric string (both are seen in the wild), capped at [`MAX_TOKEN_LIFETIME`]. Zero or
/// negative means already expired; a missing or unreadable value means the usual hour.
pub fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    use serde_json::Value;
    let seconds = match expires_in {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_i64().map(|_| 0)).or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.max(0.0) as u64)
        }),
        Some(Value::String(s)) => match retry_after(s.as_bytes()) {
            Some(d) => Some(d.as_secs()),
            None => s.trim().starts_with('-').then_some(0),
        },
        _ => None,
    };
    seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME)
        .min(MAX_TOKEN_LIFETIME)
}

/// What a path segment may hold unencoded: RFC 3986's unreserved characters and `:`, which Baack's
/// urns use in its paths. Everything else, `/`, `%`, `?` and `#` included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// One URL path segment, percent-encoded. The ids are checked against each provider's id shape
/// before they get here; this is the second fence, so that no id can ever add a segment.
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// A transport error without the URL: its path carries account and identity ids, and reqwest's
/// own message repeats the whole URL.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_stays_under_its_exponential_bound() {
        for attempt in 1..10 {
            let bound = BACKOFF_BASE * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                assert!(backoff(attempt) <= bound.min(BACKOFF_CAP));
            }
        }
        // Far past any configured attempt count the bound stays the cap.
        assert!(backoff(u32::MAX) <= BACKOFF_CAP);
    }

    #[test]
    fn retry_after_reads_seconds_and_saturates() {
        assert_eq!(retry_after(b"1"), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(b" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(b"0"), Some(Duration::ZERO));
        assert_eq!(
            retry_after(b"18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            retry_after(b"99999999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        for unreadable in [
            &b""[..],
            b" ",
            b"-1",
            b"1.5",
            b"+3",
            b"Wed, 21 Oct 2015 07:28:00 GMT",
            b"\xff",
        ] {
            assert_eq!(retry_after(unreadable), None, "{unreadable:?}");
        }
    }

    #[test]
    fn a_wait_past_the_deadline_leaves_no_time() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(10);
        assert_eq!(
            wake_at(now, Duration::from_secs(3), deadline),
            Some(now + Duration::from_secs(3))
        );
        assert_eq!(wake_at(now, Duration::from_secs(10), deadline), None);
        assert_eq!(wake_at(now, Duration::from_secs(u64::MAX), deadline), None);
        assert_eq!(wake_at(now, Duration::MAX, deadline), None);
        assert_eq!(wake_at(deadline, Duration::ZERO, deadline), None);
    }

    #[test]
    fn token_lifetime_is_capped_and_never_negative() {
        let secs = Duration::from_secs;
        assert_eq!(token_lifetime(Some(&json!(3600))), secs(3600));
        assert_eq!(token_lifetime(Some(&json!("300"))), secs(300));
        assert_eq!(token_lifetime(Some(&json!(u64::MAX))), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&json!(1e300))), MAX_TOKEN_LIFETIME);
        assert_eq!(
            token_lifetime(Some(&json!("18446744073709551616"))),
            MAX_TOKEN_LIFETIME
        );
        assert_eq!(token_lifetime(Some(&json!(59.9))), secs(59));
        assert_eq!(token_lifetime(Some(&json!(0))), Duration::ZERO);
        assert_eq!(token_lifetime(Some(&json!(-5))), Duration::ZERO);
        assert_eq!(token_lifetime(Some(&json!(-1e300))), Duration::ZERO);
        assert_eq!(token_lifetime(Some(&json!("-5"))), Duration::ZERO);
        for unreadable in [json!(null), json!("soon"), json!([1]), json!({})] {
            assert_eq!(
                token_lifetime(Some(&unreadable)),
                DEFAULT_TOKEN_LIFETIME,
                "{unreadable}"
            );
        }
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME);
    }

    #[test]
    fn segments_cannot_add_segments_or_a_query() {
        assert_eq!(segment("urn:baack:person:7c2d"), "urn:baack:person:7c2d");
        assert_eq!(segment("a.b_c-d~e"), "a.b_c-d~e");
        assert_eq!(segment("../x"), "..%2Fx");
        assert_eq!(segment("a%2Fb"), "a%252Fb");
        assert_eq!(segment("a?b#c"), "a%3Fb%23c");
        assert_eq!(segment("a b\n"), "a%20b%0A");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn a_pause_caps_and_only_grows() {
        let client = ApiClient::new(Duration::from_secs(1), 1);
        let now = Instant::now();
        client.pause(now, Duration::from_secs(u64::MAX));
        assert_eq!(*client.paused_until.lock().unwrap(), Some(now + MAX_PAUSE));
        client.pause(now, Duration::from_secs(1));
        assert_eq!(*client.paused_until.lock().unwrap(), Some(now + MAX_PAUSE));
        // A clone shares the pause, an independent client does not.
        assert_eq!(
            *client.clone().paused_until.lock().unwrap(),
            Some(now + MAX_PAUSE)
        );
        assert_eq!(*client.independent().paused_until.lock().unwrap(), None);
    }

    /// One GET to the stand-in answering `answer`, with one attempt and a 5 s timeout: a client
    /// that waited for a body never sent would end in a (retryable) timeout instead.
    async fn get(answer: crate::provider_api::stand_in::Answer) -> Result<ApiResponse, FetchError> {
        let api = crate::provider_api::stand_in::StandIn::start(move |_, _| answer.clone());
        let client = ApiClient::new(Duration::from_secs(5), 1);
        let deadline = Instant::now() + Duration::from_secs(10);
        let result = client
            .get_json(&format!("{}/x", api.base), Auth::Bearer("t"), deadline)
            .await;
        assert_eq!(api.requests(), ["GET /x"]);
        result
    }

    fn too_large(result: &Result<ApiResponse, FetchError>) -> bool {
        matches!(result, Err(FetchError::Permanent(m)) if m.contains("larger than 1048576 bytes"))
    }

    #[tokio::test]
    async fn an_answer_up_to_the_cap_is_read() {
        use crate::provider_api::stand_in::Answer;
        // A JSON string of exactly MAX_RESPONSE_BYTES bytes, quotes included.
        let largest = format!("\"{}\"", "a".repeat(MAX_RESPONSE_BYTES - 2));
        let result = get(Answer::Json(200, largest)).await;
        assert!(
            matches!(&result, Ok(ApiResponse::Json(serde_json::Value::String(s))) if s.len() == MAX_RESPONSE_BYTES - 2)
        );
        let over = format!("\"{}\"", "a".repeat(MAX_RESPONSE_BYTES - 1));
        assert!(too_large(&get(Answer::Json(200, over)).await));
    }

    #[tokio::test]
    async fn a_stated_length_over_the_cap_is_refused_before_reading() {
        use crate::provider_api::stand_in::Answer;
        let started = Instant::now();
        let result = get(Answer::Claims(10 * MAX_RESPONSE_BYTES as u64)).await;
        assert!(too_large(&result), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(4), "not waited for");
    }

    #[tokio::test]
    async fn a_body_without_a_length_stops_being_read_at_the_cap() {
        use crate::provider_api::stand_in::Answer;
        // The stand-in never ends its chunked body: only a read that stops can return.
        let result = get(Answer::Endless).await;
        assert!(too_large(&result), "{result:?}");
    }
}
