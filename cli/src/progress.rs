//! The verbs' progress on stderr: a bar for a known count, a spinner while reading. indicatif
//! draws them only when stderr is a terminal, so a pipe or a log gets none.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `length` steps drawn with `template` (indicatif's, each verb's own words).
pub fn bar(length: u64, template: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
}

/// Moves `bar` to `done`, lengthening it when more turned up than counted (an approximate
/// count that was low).
pub fn advance(bar: &ProgressBar, done: u64) {
    bar.set_position(done);
    if bar.length().is_some_and(|length| length < done) {
        bar.set_length(done);
    }
}

/// A spinner counting what has been read of `what`.
pub fn spinner(what: &'static str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("reading {what}"));
    spinner
}
