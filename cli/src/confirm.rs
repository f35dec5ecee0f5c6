//! The one confirmation rule for every verb that deletes, or sends or moves messages in bulk
//! (`forget`, `dlq drop`, `redrive`, `replay` of a range): at a terminal, the verb says what it
//! will do and asks; `--yes` answers yes beforehand; with no terminal to ask and no `--yes`, it
//! refuses (exit 2) before any AWS call and changes nothing; `--dry-run` never asks.

use crate::failure::Failure;
use std::io::IsTerminal;
use std::time::Instant;

/// The flag a verb that asks takes.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Yes {
    /// Go ahead without asking (needed when not at a terminal; --dry-run never asks).
    #[arg(long)]
    pub yes: bool,
}

/// What a verb is about to do, in the words its question and its refusal use.
pub struct Action {
    /// Said first: `forget erases argyle idn_1's data for good`.
    pub what: String,
    /// What `--yes` lets it do: `erase it`.
    pub go_ahead: &'static str,
    /// What `--dry-run` shows instead: `see what it would erase`.
    pub instead: &'static str,
    /// Nothing was ...: `erased`.
    pub untouched: &'static str,
}

impl Action {
    fn refused(&self) -> Failure {
        Failure::Usage(format!(
            "{}: pass --yes to {}, or --dry-run to {} (nothing was {})",
            self.what, self.go_ahead, self.instead, self.untouched
        ))
    }
}

/// A verb's `--yes` and `--dry-run`, and whether anyone can be asked.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation {
    yes: bool,
    dry_run: bool,
}

impl Confirmation {
    pub fn new(yes: Yes, dry_run: bool) -> Self {
        Self {
            yes: yes.yes,
            dry_run,
        }
    }

    /// First of all, before any AWS call: refuses at once when it will have to ask and nobody
    /// is there to answer. `action` is what the verb knows of its work so far.
    pub fn nobody_to_ask(&self, action: impl FnOnce() -> Action) -> Result<(), Failure> {
        if self.yes || self.dry_run || std::io::stdin().is_terminal() {
            return Ok(());
        }
        Err(action().refused())
    }

    /// Once the work is known: says it and asks, unless `--yes` or `--dry-run`. Anything but yes
    /// refuses.
    pub fn ask(&self, action: &Action) -> Result<(), Failure> {
        self.ask_within(action, None)
    }

    /// The same, for work that holds something only until `hold` has passed since `started`:
    /// the question says how long it may take, and a later answer is refused.
    pub fn ask_before(
        &self,
        action: &Action,
        started: Instant,
        hold_seconds: u64,
    ) -> Result<(), Failure> {
        self.ask_within(action, Some((started, hold_seconds)))
    }

    fn ask_within(&self, action: &Action, hold: Option<(Instant, u64)>) -> Result<(), Failure> {
        if self.yes || self.dry_run {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(action.refused());
        }
        let within = hold.map(|(_, seconds)| seconds);
        let choices = match within {
            Some(seconds) => format!("[y/N, within {seconds} s]"),
            None => "[y/N]".into(),
        };
        eprint!("{}. Go ahead? {choices} ", action.what);
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Failure::Usage(format!("cannot read the answer: {e}")))?;
        if let Some((started, seconds)) = hold {
            if started.elapsed().as_secs() >= seconds {
                return Err(Failure::Failed(format!(
                    "answered after more than {seconds} s, when what it held may have been \
                     taken by others: nothing was {}; run it again",
                    action.untouched
                )));
            }
        }
        if answer.trim().eq_ignore_ascii_case("y") || answer.trim().eq_ignore_ascii_case("yes") {
            return Ok(());
        }
        Err(action.refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forget() -> Action {
        Action {
            what: "forget erases argyle idn_1's data for good".into(),
            go_ahead: "erase it",
            instead: "see what it would erase",
            untouched: "erased",
        }
    }

    #[test]
    fn a_refusal_names_both_ways_on_and_that_nothing_changed() {
        match forget().refused() {
            Failure::Usage(message) => assert_eq!(
                message,
                "forget erases argyle idn_1's data for good: pass --yes to erase it, or \
                 --dry-run to see what it would erase (nothing was erased)"
            ),
            Failure::Failed(message) => panic!("exit 1, not 2: {message}"),
        }
    }

    #[test]
    fn yes_and_a_dry_run_never_ask() {
        let yes = Confirmation::new(Yes { yes: true }, false);
        let dry = Confirmation::new(Yes { yes: false }, true);
        for confirmation in [yes, dry] {
            assert!(confirmation.nobody_to_ask(forget).is_ok());
            assert!(confirmation.ask(&forget()).is_ok());
        }
    }
}
