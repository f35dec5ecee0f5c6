//! How a verb fails: a short message on stderr (`hookline: ...`) and its exit code.

use std::process::ExitCode;

#[derive(Debug)]
pub enum Failure {
    /// The verb ran and the answer is no (a delivery that does not verify, a stack without the
    /// outputs, an AWS error): exit 1.
    Failed(String),
    /// The command line or its input files cannot be used: exit 2, as clap's own errors.
    Usage(String),
}

impl Failure {
    pub fn report(self) -> ExitCode {
        let (message, code) = match self {
            Self::Failed(message) => (message, 1),
            Self::Usage(message) => (message, 2),
        };
        eprintln!("hookline: {message}");
        ExitCode::from(code)
    }
}

/// Reads an input file, naming it on failure.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}
