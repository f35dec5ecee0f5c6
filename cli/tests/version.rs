//! `hookline --version` names the version and the commit it was built from.

mod support;

use support::{hookline, stdout};

#[test]
fn the_version_line_names_the_version_and_the_commit() {
    let output = hookline(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        format!(
            "hookline {} (commit {})\n",
            hookline::build::VERSION,
            hookline::build::COMMIT
        )
    );
    assert_ne!(hookline::build::COMMIT, "unknown", "built in a checkout");
}
