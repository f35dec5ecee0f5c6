//! Names the commit the library is built from (`HOOKLINE_COMMIT`, read by `hookline::build`),
//! so that every function's start-up line and `hookline --version` say exactly what runs. A
//! release build sets `HOOKLINE_COMMIT` itself; in a checkout it comes from git; elsewhere
//! (a copy without its history) it is `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// Asks to be run again when `file` changes; a file that does not exist (a branch whose ref is
/// packed) would make cargo run the script on every build, so it is left out.
fn watch(file: &str) {
    if std::path::Path::new(file).exists() {
        println!("cargo:rerun-if-changed={file}");
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=HOOKLINE_COMMIT");
    let commit = std::env::var("HOOKLINE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            // Built again when HEAD moves: its file changes on a checkout, its branch's ref file
            // (or the packed refs) on a commit.
            for path in ["HEAD", "packed-refs"] {
                if let Some(file) = git(&["rev-parse", "--git-path", path]) {
                    watch(&file);
                }
            }
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                if let Some(file) = git(&["rev-parse", "--git-path", &branch]) {
                    watch(&file);
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HOOKLINE_COMMIT={commit}");
}
