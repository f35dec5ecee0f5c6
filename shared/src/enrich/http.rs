//! The one HTTP client of the enricher: timeouts, and retries with jittered backoff on 429 and
//! 5xx, honouring `Retry-After`, all within the Lambda's remaining time.

use super::FetchError;
use reqwest::{RequestBuilder, StatusCode};
use std::time::{Duration, Instant};

const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How an API call that reached the provider ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiResponse {
    Json(serde_json::Value),
    NotFound,
    /// 401 or 403: the credentials are wrong or expired.
    Unauthorized,
}

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    max_attempts: u32,
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
            .build()
            .expect("an HTTP client with rustls builds");
        Self {
            http,
            max_attempts: max_attempts.max(1),
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
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::Retryable("out of time before the call".into()));
            }
            let last = attempt >= self.max_attempts;
            let wait = match request().timeout(remaining).send().await {
                Err(e) if last => return Err(FetchError::Retryable(describe(&e))),
                Err(_) => backoff(attempt),
                Ok(response) => {
                    let status = response.status();
                    match status {
                        s if s.is_success() => {
                            let bytes = response
                                .bytes()
                                .await
                                .map_err(|e| FetchError::Retryable(describe(&e)))?;
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
                        s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                            if last {
                                return Err(FetchError::Retryable(format!(
                                    "{status} after {attempt} attempts"
                                )));
                            }
                            retry_after(&response).unwrap_or_else(|| backoff(attempt))
                        }
                        _ => return Err(FetchError::Permanent(format!("{status}"))),
                    }
                }
            };
            if Instant::now() + wait >= deadline {
                return Err(FetchError::Retryable(format!(
                    "no time left to wait {wait:?} before attempt {}",
                    attempt + 1
                )));
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Full jitter: a random wait up to the exponential bound, so retrying callers spread out.
fn backoff(attempt: u32) -> Duration {
    let bound = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(BACKOFF_CAP);
    bound.mul_f64(fastrand::f64())
}

/// `Retry-After` in seconds (the HTTP-date form is rare for APIs and falls back to backoff).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// A transport error without the URL's query string or credentials.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match error.url() {
        Some(url) => format!(
            "{kind}: {}{}",
            url.origin().ascii_serialization(),
            url.path()
        ),
        None => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_exponential_bound() {
        for attempt in 1..10 {
            let bound = BACKOFF_BASE * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                assert!(backoff(attempt) <= bound.min(BACKOFF_CAP));
            }
        }
    }
}
