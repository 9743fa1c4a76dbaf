//! One module per subcommand. Each exposes its clap arguments and a `run` function; `main.rs`
//! only dispatches. Errors are `anyhow` here (and only here); an [`InputError`] anywhere in the
//! chain means the user gave bad input and the process exits with status 2, like clap's own
//! usage errors. Any other error exits with status 1.

pub mod bank;
pub mod cbdc;
pub mod packet;

use std::io::Write;
use std::process::ExitCode;

/// The user's input was malformed (as opposed to a failure while acting on good input).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Prints the error chain and maps it to the exit status.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.chain().any(|cause| cause.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Prints a line on stdout. A closed pipe (`cypherlink ... | head`) is not an error: the reader
/// has what it wanted.
pub fn print_line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
