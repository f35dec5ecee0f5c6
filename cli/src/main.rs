//! `hookline`: the operator's tool. One module per verb (`sign`, `verify`, `providers`, `secrets`, `urls`,
//! `events`, `replay`, `redrive`, `dlq` in `dead_letters`, `identities`, `forget`, `load`); the
//! choices the verbs share in `choices`, the stack they read in `stack`, how they find its table
//! and queues in `resources`, times in `when`, exit codes in `failure`; the one confirmation
//! rule in `confirm`, the progress bars in `progress`, `--json` in `output`. forget, replay and
//! redrive themselves are library operations (`hookline::ops`).

mod captured;
mod changes;
mod choices;
mod cli;
mod completions;
mod confirm;
mod dead_letters;
mod events;
mod failure;
mod forget;
mod identities;
mod identity_listing;
mod identity_refresh;
mod load;
mod output;
mod progress;
mod providers;
mod redrive;
mod replay;
mod resources;
mod secrets;
mod sign;
mod stack;
mod table;
mod urls;
mod verify;
mod when;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let result = match cli::Cli::parse().command {
        cli::Command::Sign(args) => sign::run(&args).await,
        cli::Command::Verify(args) => verify::run(&args).await,
        cli::Command::Providers(args) => providers::run(&args).await,
        cli::Command::Secrets(args) => secrets::run(&args).await,
        cli::Command::Urls(args) => urls::run(&args).await,
        cli::Command::Events(args) => events::run(&args).await,
        cli::Command::Replay(args) => replay::run(&args).await,
        cli::Command::Redrive(args) => redrive::run(&args).await,
        cli::Command::Dlq(args) => dead_letters::run(&args).await,
        cli::Command::Identities(args) => identities::run(&args).await,
        cli::Command::Changes(args) => changes::run(&args).await,
        cli::Command::Forget(args) => forget::run(&args).await,
        cli::Command::Load(args) => load::run(&args).await,
        cli::Command::Completions(args) => completions::run(&args, cli::Cli::command()).await,
    };
    result.unwrap_or_else(|failure| failure.report())
}

/// `hookline events list ... | head` closes the pipe early: end as `head`'s other writers do
/// (killed by SIGPIPE, no output), not with a panic from `println!`. Rust ignores SIGPIPE by
/// default; this puts the default action back.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread or signal handler exists; setting
    // a signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
