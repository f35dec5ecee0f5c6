//! Webhook secrets as configured: never printed, never compared in variable time; and what is
//! built from a secret kept fresh: re-read once it is older than its lifetime, so a rotation
//! reaches running instances, not only new ones.

use crate::config_error::ConfigError;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// One configured secret (a bearer token, a shared header value or a signing key).
///
/// `Debug` is redacted so that a secret cannot reach a log line through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for the verifiers only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Every secret currently accepted. Several at once let a provider's secret rotate with no
/// downtime: add the new one, switch the provider, then remove the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    /// Parses a comma-separated list; blanks around entries and empty entries are ignored.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Secret] {
        &self.0
    }
}

impl FromIterator<Secret> for Secrets {
    fn from_iter<I: IntoIterator<Item = Secret>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Where a secret's current text is read from: Secrets Manager when deployed, memory in tests.
pub trait SecretReader: Send + Sync {
    /// The secret's text now. Errors say where and why, never the value.
    fn read(&self) -> impl Future<Output = Result<String, ConfigError>> + Send;
}

/// After a failed or refused re-read, the next try waits this long (or the lifetime, if
/// shorter): a Secrets Manager outage costs one call per half minute, not one per delivery.
pub const RETRY_AFTER_FAILURE_SECONDS: u64 = 30;

/// A value built from a secret's text (a pipeline with its verifier, an enricher with its API
/// clients), re-read when it is older than `lifetime` seconds: at the first use after that, in
/// line, so until then a use costs no call. A re-read that fails, or gives a text the build
/// refuses (a weak secret, a broken JSON array), keeps the value built before and is logged
/// (the reason, never the value); the value is rebuilt only when the text changed, so what it
/// holds (a cached API token, a provider's pause) survives a refresh of an unchanged secret.
pub struct Refreshing<T, R, B> {
    /// `None` for a value that never changes (inline secrets).
    reader: Option<R>,
    build: B,
    lifetime: u64,
    state: Mutex<Cached<T>>,
}

struct Cached<T> {
    text: String,
    built: Arc<T>,
    /// When the text was last read successfully (Unix seconds).
    read_at: i64,
    /// When the next use re-reads it.
    next_read: i64,
}

/// What one use did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Young enough, or fixed: nothing read.
    Cached,
    /// Read, the same text: the value is kept.
    Unchanged,
    /// Read, a new text: the value was rebuilt.
    Changed,
    /// The read or the build failed: the value built before is kept.
    Failed(ConfigError),
}

impl<T, R: SecretReader, B: Fn(&str) -> Result<T, ConfigError> + Send + Sync> Refreshing<T, R, B> {
    /// Reads and builds once, at start-up: a failure here stops the function, as before any
    /// delivery there is nothing to fall back on.
    pub async fn start(reader: R, build: B, lifetime: u64, now: i64) -> Result<Self, ConfigError> {
        let text = reader.read().await?;
        Self::new(reader, build, lifetime, text, now)
    }

    /// As [`Self::start`] with the first text already read (at start-up the read may take the
    /// SDK's whole budget; `reader` then serves the re-reads).
    pub fn new(
        reader: R,
        build: B,
        lifetime: u64,
        text: String,
        now: i64,
    ) -> Result<Self, ConfigError> {
        let built = Arc::new(build(&text)?);
        Ok(Self {
            reader: Some(reader),
            build,
            lifetime,
            state: Mutex::new(Cached {
                text,
                built,
                read_at: now,
                next_read: now.saturating_add_unsigned(lifetime),
            }),
        })
    }

    /// A value that is never re-read.
    pub fn fixed(value: T, build: B) -> Self {
        Self {
            reader: None,
            build,
            lifetime: 0,
            state: Mutex::new(Cached {
                text: String::new(),
                built: Arc::new(value),
                read_at: 0,
                next_read: i64::MAX,
            }),
        }
    }

    /// The value to use at `now` (Unix seconds), re-read first if it is due.
    pub async fn get(&self, now: i64) -> Arc<T> {
        self.get_with(now).await.0
    }

    /// As [`Self::get`], saying what was done.
    pub async fn get_with(&self, now: i64) -> (Arc<T>, Refresh) {
        let Some(reader) = &self.reader else {
            return (self.lock().built.clone(), Refresh::Cached);
        };
        let (previous_text, previous) = {
            let mut state = self.lock();
            // A clock that went back counts as due: better one read too many than a stuck one.
            if now < state.next_read && now >= state.read_at {
                return (state.built.clone(), Refresh::Cached);
            }
            // Whoever comes next while this read is in flight keeps the current value.
            state.next_read = now.saturating_add_unsigned(self.retry_after());
            (state.text.clone(), state.built.clone())
        };
        let outcome = match reader.read().await {
            Ok(text) if text == previous_text => Ok((text, None)),
            Ok(text) => (self.build)(&text).map(|built| (text, Some(Arc::new(built)))),
            Err(e) => Err(e),
        };
        let mut state = self.lock();
        match outcome {
            Ok((text, rebuilt)) => {
                state.text = text;
                state.read_at = now;
                state.next_read = now.saturating_add_unsigned(self.lifetime);
                match rebuilt {
                    Some(built) => {
                        tracing::info!("secrets re-read: a new value is in use");
                        state.built = built.clone();
                        (built, Refresh::Changed)
                    }
                    None => (previous, Refresh::Unchanged),
                }
            }
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    age_seconds = now.saturating_sub(state.read_at),
                    retry_in_seconds = self.retry_after(),
                    "could not refresh the secrets: serving with the ones read before"
                );
                (previous, Refresh::Failed(error))
            }
        }
    }

    fn retry_after(&self) -> u64 {
        self.lifetime.min(RETRY_AFTER_FAILURE_SECONDS)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached<T>> {
        // Nothing panics while holding it; a poisoned lock still holds a whole value.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_trims_and_skips_empty_entries() {
        let secrets = Secrets::parse(" old ,, new,");
        let values: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        assert_eq!(values, ["old", "new"]);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secrets = Secrets::parse("hunter2");
        let printed = format!("{secrets:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    /// Secrets in memory: what a read returns next, and how many reads there were.
    struct Memory {
        text: Mutex<Result<String, ConfigError>>,
        reads: std::sync::atomic::AtomicUsize,
    }

    impl Memory {
        fn new(text: &str) -> Self {
            Self {
                text: Mutex::new(Ok(text.into())),
                reads: Default::default(),
            }
        }
        fn put(&self, text: Result<&str, &str>) {
            *self.text.lock().unwrap() = match text {
                Ok(text) => Ok(text.into()),
                Err(reason) => Err(ConfigError::SecretUnavailable {
                    arn: "arn:test".into(),
                    reason: reason.into(),
                }),
            };
        }
        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl SecretReader for &Memory {
        async fn read(&self) -> Result<String, ConfigError> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.text.lock().unwrap().clone()
        }
    }

    /// Builds what a verifier holds: the list; refuses a secret named "weak".
    fn build(text: &str) -> Result<Vec<String>, ConfigError> {
        let secrets = Secrets::parse(text);
        if secrets.iter().any(|s| s.expose() == "weak") {
            return Err(ConfigError::Invalid {
                name: "WEBHOOK_SECRETS_ARN",
                reason: "entry 1 of 1 is too short".into(),
            });
        }
        Ok(secrets.iter().map(|s| s.expose().to_string()).collect())
    }

    const T: i64 = 1_800_000_000;

    #[tokio::test]
    async fn a_rotation_reaches_a_running_instance_after_the_lifetime() {
        let source = Memory::new("old");
        let cache = Refreshing::start(&source, build, 300, T).await.unwrap();
        assert_eq!(*cache.get(T + 1).await, ["old"]);
        source.put(Ok("old,new"));
        // Inside the lifetime: no read, the old list.
        assert_eq!(cache.get_with(T + 299).await.1, Refresh::Cached);
        assert_eq!(*cache.get(T + 299).await, ["old"]);
        assert_eq!(source.reads(), 1);
        let (both, what) = cache.get_with(T + 300).await;
        assert_eq!(
            (&*both, what),
            (&vec!["old".into(), "new".into()], Refresh::Changed)
        );
        source.put(Ok("new"));
        assert_eq!(*cache.get(T + 599).await, ["old", "new"]);
        assert_eq!(*cache.get(T + 600).await, ["new"]);
        assert_eq!(source.reads(), 3);
    }

    #[tokio::test]
    async fn an_unchanged_secret_keeps_the_value_built_before() {
        let source = Memory::new("same");
        let cache = Refreshing::start(&source, build, 60, T).await.unwrap();
        let first = cache.get(T).await;
        let (again, what) = cache.get_with(T + 60).await;
        assert_eq!(what, Refresh::Unchanged);
        assert!(Arc::ptr_eq(&first, &again), "rebuilt for an unchanged text");
    }

    #[tokio::test]
    async fn a_failed_or_refused_read_keeps_the_previous_value_and_retries_later() {
        let source = Memory::new("old");
        let cache = Refreshing::start(&source, build, 300, T).await.unwrap();
        source.put(Err("throttled"));
        let (kept, what) = cache.get_with(T + 300).await;
        assert_eq!(*kept, ["old"]);
        assert!(matches!(
            what,
            Refresh::Failed(ConfigError::SecretUnavailable { .. })
        ));
        // Not once per delivery: the next try is 30 s later.
        assert_eq!(cache.get_with(T + 329).await.1, Refresh::Cached);
        assert_eq!(source.reads(), 2);
        // A value the build refuses is not taken either.
        source.put(Ok("weak"));
        let (kept, what) = cache.get_with(T + 330).await;
        assert_eq!(*kept, ["old"]);
        assert!(matches!(what, Refresh::Failed(ConfigError::Invalid { .. })));
        source.put(Ok("new"));
        assert_eq!(*cache.get(T + 360).await, ["new"]);
        // Back to the full lifetime once a read succeeds.
        assert_eq!(cache.get_with(T + 659).await.1, Refresh::Cached);
        assert_eq!(cache.get_with(T + 660).await.1, Refresh::Unchanged);
    }

    #[tokio::test]
    async fn lifetime_zero_reads_at_every_use_and_a_clock_going_back_reads_again() {
        let source = Memory::new("old");
        let cache = Refreshing::start(&source, build, 0, T).await.unwrap();
        cache.get(T).await;
        cache.get(T).await;
        assert_eq!(source.reads(), 3);
        let source = Memory::new("old");
        let cache = Refreshing::start(&source, build, 300, T).await.unwrap();
        assert_eq!(cache.get_with(T - 1).await.1, Refresh::Unchanged);
    }

    #[tokio::test]
    async fn start_fails_without_a_first_value_and_fixed_never_reads() {
        let source = Memory::new("weak");
        assert!(Refreshing::start(&source, build, 300, T).await.is_err());
        let fixed: Refreshing<_, &Memory, _> = Refreshing::fixed(vec!["inline".to_string()], build);
        assert_eq!(cache_value(&fixed, i64::MAX).await, ["inline"]);
    }

    async fn cache_value<B: Fn(&str) -> Result<Vec<String>, ConfigError> + Send + Sync>(
        cache: &Refreshing<Vec<String>, &Memory, B>,
        now: i64,
    ) -> Vec<String> {
        cache.get(now).await.to_vec()
    }
}
