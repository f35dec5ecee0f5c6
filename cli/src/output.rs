//! How every verb that prints a result chooses between text for people and JSON for programs.

/// `--json`, flattened into each verb's arguments.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of text: one object, or one a line for a listing.
    #[arg(long)]
    pub json: bool,
}
