//! A provider's webhook secrets, as the stack keeps them (one Secrets Manager secret per
//! provider, a JSON array of strings, newest last): their state without their values, a new one
//! put alone (a first registration), a new one put beside the others (a rotation's first step),
//! and the older ones dropped (its last). The functions read the secret again within
//! `SECRETS_CACHE_SECONDS`, so each step reaches every instance with no restart, and a rotation
//! done in these steps refuses no delivery.

use crate::config::{AuthConfig, AuthOptions, MIN_SECRET_BYTES};
use crate::provider::Provider;
use crate::secrets::{Secret, Secrets};
use crate::secrets_manager::parse_secret_string;
use std::future::Future;

crate::port_error::port_error!(
    /// The secret could not be read or written.
    SecretError,
    "webhook secret"
);

/// What the store holds for one secret: its text and when it was created and last changed
/// (Unix seconds, when the store says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub text: String,
    pub created: Option<i64>,
    pub changed: Option<i64>,
}

/// Where the stack's secrets live (Secrets Manager when deployed, memory in tests).
pub trait SecretStore: Send + Sync {
    fn read(&self, id: &str) -> impl Future<Output = Result<StoredSecret, SecretError>> + Send;
    fn put(&self, id: &str, text: &str) -> impl Future<Output = Result<(), SecretError>> + Send;
}

/// What to do to a provider's list of secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This secret alone: the others stop verifying (a first registration, or a leaked one).
    Alone(Secret),
    /// This secret beside the others, newest last: the rotation's first step.
    Beside(Secret),
    /// The newest alone: the rotation's last step, once the provider signs with it only.
    DropOlder,
}

/// Why a change cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the secret holds no value to keep")]
    Empty,
    #[error("the secret holds one value only: there is nothing older to drop")]
    NothingOlder,
    #[error("that value is already one of the provider's secrets")]
    AlreadyThere,
    #[error("the stored secret cannot be read as a list of secrets: {0}")]
    Unreadable(String),
}

/// What a change makes of a stored list of secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// How many secrets the stored text held.
    pub before: usize,
    /// The list the change leaves.
    pub after: Vec<Secret>,
}

impl Planned {
    /// The counts the operator is told.
    pub fn counts(&self) -> Changed {
        Changed {
            before: self.before,
            after: self.after.len(),
        }
    }
}

/// What `change` makes of `current`'s text (a dry run shows it, [`change`] writes it).
pub fn apply(current: &str, change: &Change) -> Result<Planned, Refused> {
    let secrets = parse_secret_string(current).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let mut list: Vec<Secret> = secrets.iter().cloned().collect();
    let before = list.len();
    let after = match change {
        Change::Alone(secret) => vec![secret.clone()],
        Change::Beside(secret) if list.contains(secret) => return Err(Refused::AlreadyThere),
        Change::Beside(secret) => {
            list.push(secret.clone());
            list
        }
        Change::DropOlder => match list.pop() {
            None => return Err(Refused::Empty),
            Some(_) if list.is_empty() => return Err(Refused::NothingOlder),
            Some(newest) => vec![newest],
        },
    };
    Ok(Planned { before, after })
}

/// The text stored for `secrets`: a JSON array of strings, in which a comma stays inside its
/// secret.
pub fn text(secrets: &[Secret]) -> String {
    let values: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    serde_json::to_string(&values).expect("strings serialize")
}

/// A provider's secrets as an operator may see them: how many, how strong, since when; never
/// a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub count: usize,
    /// For each secret, oldest first, the bytes an attacker must guess (the key it gives, as
    /// the provider's verifier reads it with `options`).
    pub strengths: Vec<usize>,
    /// Never put since it was created. On AWS the stack creates each webhook secret with an
    /// unguessable placeholder no provider signs with, so this means the real one is still to be
    /// put; a secret created with its value (as the local run's are) reads the same.
    pub as_created: bool,
    pub changed: Option<i64>,
}

impl Status {
    /// Whether every secret is at least as strong as the functions require by default.
    pub fn strong(&self) -> bool {
        self.strengths
            .iter()
            .all(|bytes| *bytes >= MIN_SECRET_BYTES)
    }
}

/// Provider `P`'s status from what the store holds, its verifier configured with `options` (as
/// the function's environment sets them).
pub fn status<P: Provider>(stored: &StoredSecret, options: &AuthOptions) -> Status {
    let secrets = parse_secret_string(&stored.text).unwrap_or_else(|_| Secrets::parse(""));
    let strengths = AuthConfig::new(secrets.clone(), options.clone())
        .ok()
        .and_then(|config| P::from_config(&config).ok())
        .map(|provider| provider.verifier().secret_strengths())
        .unwrap_or_else(|| secrets.iter().map(|s| s.expose().len()).collect());
    let as_created = matches!(
        (stored.created, stored.changed),
        (Some(created), Some(changed)) if changed - created < 2
    );
    Status {
        count: secrets.len(),
        strengths,
        as_created,
        changed: stored.changed,
    }
}

/// The secret stored in `id` after `change`, written; returns how many secrets it held before
/// and after (what the operator is told).
pub async fn change(
    store: &impl SecretStore,
    id: &str,
    change: &Change,
) -> Result<Changed, ChangeError> {
    let planned = apply(&store.read(id).await?.text, change)?;
    store.put(id, &text(&planned.after)).await?;
    Ok(planned.counts())
}

/// How many secrets a change found and left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub before: usize,
    pub after: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Store(#[from] SecretError),
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// A new secret for provider `P` from 32 random bytes, in the shape its scheme takes.
pub fn new_secret<P: Provider>(random: &[u8; 32]) -> Secret {
    Secret::new(P::secret_from_random(random))
}

/// Secrets Manager as the [`SecretStore`].
pub struct SecretsManagerStore {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManagerStore {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

fn failed(
    action: &str,
    err: impl std::error::Error + aws_sdk_secretsmanager::error::ProvideErrorMetadata,
) -> SecretError {
    SecretError::new(
        crate::port_error::ErrorKind::of_code(err.code()),
        format!("{action} failed: {}", crate::aws_error::one_line(&err)),
    )
}

impl SecretStore for SecretsManagerStore {
    async fn read(&self, id: &str) -> Result<StoredSecret, SecretError> {
        let value = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| failed("GetSecretValue", e))?;
        let described = self
            .client
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| failed("DescribeSecret", e))?;
        Ok(StoredSecret {
            text: value.secret_string().unwrap_or_default().to_string(),
            created: described.created_date().map(|d| d.secs()),
            changed: described.last_changed_date().map(|d| d.secs()),
        })
    }

    async fn put(&self, id: &str, text: &str) -> Result<(), SecretError> {
        self.client
            .put_secret_value()
            .secret_id(id)
            .secret_string(text)
            .send()
            .await
            .map_err(|e| failed("PutSecretValue", e))?;
        Ok(())
    }
}

/// Secrets in memory, for tests: each put replaces the text and moves the change time on.
#[derive(Default)]
pub struct MemorySecrets {
    stored: std::sync::Mutex<std::collections::HashMap<String, StoredSecret>>,
}

impl MemorySecrets {
    pub fn insert(&self, id: &str, stored: StoredSecret) {
        self.stored
            .lock()
            .expect("not poisoned")
            .insert(id.to_string(), stored);
    }

    pub fn text(&self, id: &str) -> Option<String> {
        let stored = self.stored.lock().expect("not poisoned");
        stored.get(id).map(|s| s.text.clone())
    }
}

impl SecretStore for MemorySecrets {
    async fn read(&self, id: &str) -> Result<StoredSecret, SecretError> {
        let stored = self.stored.lock().expect("not poisoned");
        stored.get(id).cloned().ok_or_else(|| {
            SecretError::new(crate::port_error::ErrorKind::NotFound, format!("no {id}"))
        })
    }

    async fn put(&self, id: &str, text: &str) -> Result<(), SecretError> {
        let mut stored = self.stored.lock().expect("not poisoned");
        let entry = stored.entry(id.to_string()).or_insert(StoredSecret {
            text: String::new(),
            created: Some(0),
            changed: Some(0),
        });
        entry.text = text.to_string();
        entry.changed = Some(entry.changed.unwrap_or(0) + 60);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Argyle, Midbound};

    fn secret(text: &str) -> Secret {
        Secret::new(text)
    }

    #[test]
    fn a_rotation_adds_beside_then_keeps_the_newest() {
        let old = r#"["old-secret-0123456789"]"#;
        let both = apply(old, &Change::Beside(secret("new-secret-0123456789")))
            .unwrap()
            .after;
        assert_eq!(
            text(&both),
            r#"["old-secret-0123456789","new-secret-0123456789"]"#
        );
        let newest = apply(&text(&both), &Change::DropOlder).unwrap().after;
        assert_eq!(text(&newest), r#"["new-secret-0123456789"]"#);
        // A comma-separated list (the other form the functions read) rotates the same way.
        let from_list = apply(
            "a-secret-0123456789,b-secret-0123456789",
            &Change::DropOlder,
        );
        assert_eq!(
            text(&from_list.unwrap().after),
            r#"["b-secret-0123456789"]"#
        );
    }

    #[test]
    fn what_cannot_be_done_is_refused_and_says_why() {
        assert_eq!(
            apply(r#"["only-0123456789abcdef"]"#, &Change::DropOlder),
            Err(Refused::NothingOlder)
        );
        assert_eq!(apply("[]", &Change::DropOlder), Err(Refused::Empty));
        assert_eq!(
            apply(r#"["same"]"#, &Change::Beside(secret("same"))),
            Err(Refused::AlreadyThere)
        );
        assert!(matches!(
            apply(r#"["broken","#, &Change::DropOlder),
            Err(Refused::Unreadable(_))
        ));
        assert_eq!(
            apply(r#"["a","b"]"#, &Change::Alone(secret("c"))).unwrap(),
            Planned {
                before: 2,
                after: vec![secret("c")]
            }
        );
    }

    #[test]
    fn a_comma_stays_inside_its_secret() {
        let stored = text(&[secret("a,b")]);
        assert_eq!(parse_secret_string(&stored).unwrap().len(), 1);
    }

    #[test]
    fn status_counts_and_weighs_without_values() {
        let stored = StoredSecret {
            text: r#"["short","a-long-enough-secret-of-32-bytes"]"#.into(),
            created: Some(100),
            changed: Some(5_000),
        };
        let argyle = status::<Argyle>(&stored, &AuthOptions::default());
        assert_eq!(argyle.count, 2);
        assert_eq!(argyle.strengths, [5, 32]);
        assert!(!argyle.strong());
        assert!(!argyle.as_created);
        let untouched = StoredSecret {
            created: Some(100),
            changed: Some(100),
            ..stored
        };
        assert!(status::<Argyle>(&untouched, &AuthOptions::default()).as_created);
        assert!(!format!("{argyle:?}").contains("a-long-enough"));
    }

    #[test]
    fn new_secrets_take_their_scheme_s_shape_and_are_strong() {
        let random = [7u8; 32];
        let token = new_secret::<Argyle>(&random);
        assert_eq!(token.expose().len(), 64);
        assert!(token.expose().bytes().all(|b| b.is_ascii_hexdigit()));
        let signing = new_secret::<Midbound>(&random);
        assert!(
            signing.expose().starts_with("whsec_"),
            "Standard Webhooks' form"
        );
        let stored = StoredSecret {
            text: text(&[signing]),
            created: None,
            changed: None,
        };
        let midbound = status::<Midbound>(&stored, &AuthOptions::default());
        assert_eq!(
            midbound.strengths,
            [32],
            "the decoded key is the 32 random bytes"
        );
    }

    #[tokio::test]
    async fn a_change_is_read_applied_and_written_once() {
        let store = MemorySecrets::default();
        store.insert(
            "arn:argyle",
            StoredSecret {
                text: r#"["old-secret-0123456789"]"#.into(),
                created: Some(0),
                changed: Some(0),
            },
        );
        let done = change(
            &store,
            "arn:argyle",
            &Change::Beside(secret("new-secret-0123456789")),
        )
        .await
        .unwrap();
        assert_eq!(
            done,
            Changed {
                before: 1,
                after: 2
            }
        );
        let refused = change(
            &store,
            "arn:argyle",
            &Change::Beside(secret("new-secret-0123456789")),
        )
        .await
        .unwrap_err();
        assert_eq!(refused, ChangeError::Refused(Refused::AlreadyThere));
        assert_eq!(
            store.text("arn:argyle").unwrap(),
            r#"["old-secret-0123456789","new-secret-0123456789"]"#,
            "a refused change writes nothing"
        );
        let missing = change(&store, "arn:none", &Change::DropOlder)
            .await
            .unwrap_err();
        assert!(matches!(
            missing,
            ChangeError::Store(SecretError {
                kind: crate::port_error::ErrorKind::NotFound,
                ..
            })
        ));
    }
}
