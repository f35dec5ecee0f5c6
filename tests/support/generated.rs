//! Documents generated from their sources and checked in (the CLI and parameter references,
//! UPGRADING.md's table): a test compares what it generates with the file, or, with
//! `HOOKLINE_BLESS=1`, rewrites the file instead.

/// Whether this run rewrites the generated documents (`HOOKLINE_BLESS=1`).
pub fn blessing() -> bool {
    std::env::var("HOOKLINE_BLESS").as_deref() == Ok("1")
}

/// Fails, naming the first line that differs and the command that rewrites it, when what is
/// checked in for `what` is not what its source generates.
pub fn assert_generated(what: &str, checked_in: &str, generated: &str, bless: &str) {
    if checked_in == generated {
        return;
    }
    let first = checked_in
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(checked_in.lines().count().min(generated.lines().count()));
    panic!(
        "{what} differs from its source from line {}: {:?} checked in, {:?} generated; rewrite \
         it with {bless}",
        first + 1,
        checked_in.lines().nth(first).unwrap_or("(end)"),
        generated.lines().nth(first).unwrap_or("(end)"),
    );
}
