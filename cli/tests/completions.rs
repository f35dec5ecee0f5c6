//! `hookline completions SHELL` writes a completion script that knows every verb.

mod support;

use support::{hookline, stdout};

#[test]
fn each_shell_s_script_names_every_verb() {
    let help = stdout(&hookline(&["--help"]));
    let verbs: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .take_while(|word| !word.ends_with(':'))
        .filter(|verb| *verb != "help")
        .collect();
    assert!(
        verbs.contains(&"secrets") && verbs.contains(&"completions"),
        "{verbs:?}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let output = hookline(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        for verb in &verbs {
            assert!(script.contains(verb), "{shell}: no {verb}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    assert_eq!(hookline(&["completions", "tcsh"]).status.code(), Some(2));
}
