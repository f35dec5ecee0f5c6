//! Test support: real DynamoDB and SQS resources on the emulator, signed deliveries for every
//! provider, and API Gateway / function URL events around them.

pub mod aws;
pub mod changes;
pub mod enricher;
pub mod events;
pub mod faults;
pub mod generated;
pub mod harness;
pub mod iam;
pub mod metrics;
pub mod samples;
pub mod stack;

pub use aws::{Emulator, Function, Message, Resources};
pub use events::{invoke, invoke_at, Event, Response, Shape};
pub use harness::Harness;
pub use samples::Sample;
