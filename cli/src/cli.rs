//! The command line: one subcommand per verb, each verb's arguments beside its code.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "hookline",
    version = hookline::build::VERSION_LINE,
    about = "The hookline operator's tool: sign and verify webhook deliveries with the product's \
             own code, list a stack's webhook URLs, read and replay its event history, show and \
             forget identities, load-test a deployment"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign a payload as the provider does: print the headers, write an invocation event, or POST.
    #[command(after_help = crate::sign::EXAMPLES)]
    Sign(crate::sign::SignArgs),
    /// Say whether a captured delivery verifies, and if not, why (the function's own reason).
    #[command(after_help = crate::verify::EXAMPLES)]
    Verify(crate::verify::VerifyArgs),
    /// List the providers this version receives: function, URLs, the enricher's credentials.
    #[command(after_help = crate::providers::EXAMPLES)]
    Providers(crate::providers::ProvidersArgs),
    /// Each provider's webhook secrets: status without values; set, rotate, drop the old ones.
    #[command(after_help = crate::secrets::EXAMPLES)]
    Secrets(crate::secrets::SecretsArgs),
    /// Print every provider's webhook URL from a deployed stack's outputs, ready to register.
    #[command(after_help = crate::urls::EXAMPLES)]
    Urls(crate::urls::UrlsArgs),
    /// Read the event history: one event's kept occurrences, or a provider's events in a range.
    #[command(after_help = crate::events::EXAMPLES)]
    Events(crate::events::EventsArgs),
    /// Send kept events to the queue again (by id, or a provider's range), at a bounded rate.
    #[command(after_help = crate::replay::EXAMPLES, override_usage = crate::replay::USAGE)]
    Replay(crate::replay::ReplayArgs),
    /// Move the dead-letter queue's messages back to the events queue, for the enricher to retry
    /// (or a retained queue's, after an upgrade: standard and FIFO queues mix).
    #[command(after_help = crate::redrive::EXAMPLES)]
    Redrive(crate::redrive::RedriveArgs),
    /// Look at the dead-letter queue's messages one by one: list them, show one, drop one.
    #[command(after_help = crate::dead_letters::EXAMPLES)]
    Dlq(crate::dead_letters::DlqArgs),
    /// Read the identities' current state: one identity's, or a provider's listed or exported.
    #[command(after_help = crate::identities::EXAMPLES)]
    Identities(crate::identities::IdentitiesArgs),
    /// The change events downstream systems receive: send a window of them again to a rule.
    #[command(after_help = crate::changes::EXAMPLES)]
    Changes(crate::changes::ChangesArgs),
    /// Erase one identity's data everywhere hookline keeps it, and tell downstream systems.
    #[command(after_help = crate::forget::EXAMPLES)]
    Forget(crate::forget::ForgetArgs),
    /// Print the shell's completion script for hookline (bash, zsh, fish, elvish, powershell).
    #[command(after_help = crate::completions::EXAMPLES)]
    Completions(crate::completions::CompletionsArgs),
    /// Load-test a deployment: signed deliveries at a target rate, answer times and statuses.
    #[command(after_help = crate::load::EXAMPLES)]
    Load(crate::load::LoadArgs),
}
