//! The operator's operations, as library code over small ports: [`forget`] (one identity
//! erased everywhere), [`replay`] (kept events sent to the queue again), [`redrive`] (the
//! dead-letter queue moved back), [`secrets`] (each provider's webhook secrets set, rotated,
//! looked at without their values), [`change_replay`] (the change events of a window sent again
//! from the bus's archive), [`identity_export`] (a provider's identities read at a bounded rate,
//! resumably), [`refresh`] (identities read again from their provider on request). Each takes its ports by reference and a callback that hears
//! its progress, and returns what it did, never printing: the CLI parses, confirms, draws and
//! prints. Their AWS adapters sit beside the ports (but for redrive's queue pair: see
//! [`redrive`]); what they share is here: [`queues`] (the stack's two queues), [`listing`]
//! (the history's index read page by page), [`sdk_error`].

pub mod change_replay;
pub mod forget;
pub mod identity_export;
pub mod listing;
pub mod queues;
pub mod redrive;
pub mod refresh;
pub mod replay;
pub mod sdk_error;
pub mod secrets;
