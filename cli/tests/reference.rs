//! docs/cli-reference.md is generated from clap's own definitions: the built binary's `--help`,
//! then each verb's and sub-verb's, the verbs read from the Commands section of the help above
//! them (so a new verb is picked up). The test fails when the checked-in file differs; with
//! `HOOKLINE_BLESS=1` it rewrites the file instead.

mod support;

use integration_tests::generated::{assert_generated, blessing};
use std::path::Path;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli-reference.md");

/// What `hookline ARGS... --help` prints, with no variable set: clap prints the value of a set
/// `[env: ...]` variable, which would make the reference depend on the shell it was made in.
fn help(args: &[&str]) -> String {
    let output = std::process::Command::new(support::BIN)
        .args(args)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success(), "hookline {args:?} --help failed");
    let text = String::from_utf8(output.stdout).expect("help is UTF-8");
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The names in a help text's `Commands:` section, `help` left out.
fn verbs(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// `path` and every verb below it, depth first, each with its help.
fn walk(path: Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
    let args: Vec<&str> = path.iter().map(String::as_str).collect();
    let text = help(&args);
    let below = verbs(&text);
    found.push((path.clone(), text));
    for verb in below {
        let mut next = path.clone();
        next.push(verb);
        walk(next, found);
    }
}

fn reference() -> String {
    let mut found = Vec::new();
    walk(Vec::new(), &mut found);
    let title = |path: &[String]| {
        let mut words = vec!["hookline".to_string()];
        words.extend(path.iter().cloned());
        format!("`{}`", words.join(" "))
    };
    let mut out = String::from(
        "# CLI reference\n\
         \n\
         Generated from the CLI's own definitions by `cli/tests/reference.rs`: the built binary's\n\
         `--help` for every verb. Do not edit it by hand; after changing the CLI, rewrite it with\n\
         `HOOKLINE_BLESS=1 cargo test -p hookline-cli --test reference`. How the verbs work\n\
         together, with examples: [cli.md](cli.md).\n\n",
    );
    for (path, _) in &found {
        let anchor: String = title(path)
            .trim_matches('`')
            .replace(' ', "-")
            .to_lowercase();
        let indent = "  ".repeat(path.len().saturating_sub(1));
        out.push_str(&format!("{indent}- [{}](#{anchor})\n", title(path)));
    }
    for (path, text) in &found {
        out.push_str(&format!("\n## {}\n\n```text\n{text}\n```\n", title(path)));
    }
    out
}

#[test]
fn the_cli_reference_is_what_the_binary_prints() {
    let generated = reference();
    if blessing() {
        std::fs::write(REFERENCE, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(Path::new(REFERENCE)).unwrap_or_default();
    assert_generated(
        "docs/cli-reference.md",
        &checked_in,
        &generated,
        "HOOKLINE_BLESS=1 cargo test -p hookline-cli --test reference",
    );
}

#[test]
fn verbs_are_read_from_the_commands_section() {
    let help = "About\n\nUsage: x <COMMAND>\n\nCommands:\n  sign  Sign\n  dlq   Look\n  help  \
                Print\n\nOptions:\n  -h, --help  Print help";
    assert_eq!(verbs(help), ["sign", "dlq"]);
    assert!(verbs("Usage: x [OPTIONS]\n\nOptions:\n  --json  JSON").is_empty());
}
