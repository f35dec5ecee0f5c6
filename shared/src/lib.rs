//! hookline: verified, deduplicated, loss-free identity webhooks on AWS Lambda.
//!
//! Domain (no AWS types): [`request`], [`verify`], [`provider`], [`providers`], [`envelope`],
//! [`limits`], [`store`] and [`queue`] ports, [`pipeline`], [`response`], [`sweeper`]. Edges:
//! [`lambda_event`] and [`invocation`] (Lambda events in, answers out),
//! `store::DynamoDbEventStore`, `queue::SqsEventQueue`, and each binary's main: [`runtime`] (the
//! webhook functions), `enrich::run`, `sweeper::run`. The operator's operations (forget,
//! replay, redrive), over the same ports, for the CLI: [`ops`].

pub mod attribute;
pub mod aws_error;
pub mod clock;
pub mod config;
pub mod digest;
pub mod enrich;
pub mod envelope;
pub mod history;
pub mod identity;
pub mod invocation;
pub mod json_text;
pub mod lambda_event;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod pipeline;
pub mod provider;
pub mod providers;
pub mod queue;
pub mod registration_check;
pub mod rejection;
pub mod request;
pub mod response;
pub mod runtime;
pub mod secrets;
pub mod secrets_manager;
pub mod store;
pub mod sweeper;
pub mod verify;

pub use config::{AuthConfig, Config, ConfigError};
pub use pipeline::{Handled, Outcome, Pipeline, Settings};
pub use provider::{Delivery, Provider};
pub use runtime::run;
