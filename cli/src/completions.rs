//! `hookline completions SHELL`: the shell's completion script for `hookline`, written from
//! clap's own definition of the command line, so it always knows every verb and flag.

use crate::failure::Failure;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline completions bash > ~/.local/share/bash-completion/completions/hookline
  hookline completions zsh > \"${fpath[1]}/_hookline\"
  hookline completions fish > ~/.config/fish/completions/hookline.fish";

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes the script for `command`, the whole command line (given by `main`, which knows it: a
/// verb of that command line naming it again would make a module cycle).
pub async fn run(args: &CompletionsArgs, mut command: clap::Command) -> Result<ExitCode, Failure> {
    clap_complete::generate(args.shell, &mut command, "hookline", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
