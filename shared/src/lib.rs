//! hookline: verified, deduplicated, loss-free identity webhooks on AWS Lambda.
//!
//! The modules below are declared by layer, each layer using only those above it (no module
//! cycle: `tests/architecture.rs`).
//!
//! - **Domain**, plain Rust with no AWS type: a delivery ([`request`], [`verify`], [`provider`],
//!   [`providers`], [`envelope`], [`limits`], [`rejection`]), its handling ([`pipeline`],
//!   [`response`]), each identity's state and change events ([`identity`]'s `decide`), the
//!   history's entries ([`history`]), configuration ([`config`], [`secrets`]), and what is
//!   logged and counted ([`logging`], [`metrics`]).
//! - **Ports**: the traits the domain talks through, each module holding the trait, an
//!   in-memory adapter for unit tests and the AWS adapter beside it: [`store`] (DynamoDB),
//!   [`queue`] (SQS), [`history`] and [`identity`] (DynamoDB, EventBridge), [`provider_api`]
//!   (the providers' HTTP APIs), `secrets::SecretReader` ([`secrets_manager`]).
//! - **Runtime**: what each binary's `main` runs: [`runtime`] and [`invocation`] (the webhook
//!   functions, with [`lambda_event`] for the events in and the answers out), [`enrich`] (the
//!   enricher), [`sweeper`].
//! - **Operations**: the operator's verbs (forget, replay, redrive) as library code over the
//!   ports, for the CLI and any other tool: [`ops`].

// Domain: the values and rules, no AWS type.
pub mod build;
pub mod clock;
pub mod config;
pub mod config_error;
pub mod digest;
pub mod envelope;
pub mod json_text;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod port_error;
pub mod provider;
pub mod providers;
pub mod registration_check;
pub mod rejection;
pub mod request;
pub mod response;
pub mod secrets;
pub mod timestamp;
pub mod verify;

// Ports, each with its in-memory and AWS adapters.
pub mod history;
pub mod identity;
pub mod provider_api;
pub mod queue;
pub mod store;

// What the AWS adapters share.
pub mod attribute;
pub mod aws_error;
pub mod secrets_manager;

// Operations: the operator's verbs over the ports.
pub mod ops;

// Runtime: the binaries' mains and the Lambda events they take.
pub mod enrich;
pub mod invocation;
pub mod lambda_event;
pub mod runtime;
pub mod sweeper;

pub use config::{AuthConfig, Config, ConfigError};
pub use pipeline::{Handled, Outcome, Pipeline, Settings};
pub use provider::{Delivery, Provider};
pub use runtime::run;
