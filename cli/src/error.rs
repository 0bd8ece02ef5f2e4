//! The CLI's error: a library error, an I/O failure on a named file or stream, or a usage
//! problem. `main` prints `error: <message>` and exits with [`CliError::exit_code`]:
//! 0 success, 1 error, 2 usage error, 75 a transient failure (storage trouble or a lost
//! commit race: running the command again may succeed), 130 interrupted or cancelled.

use streamhouse::ErrorKind;

use std::io;

pub type CliResult<T> = Result<T, CliError>;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Table(#[from] streamhouse::Error),
    /// Reading or writing a local file or a standard stream failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    /// The command line asks for something impossible (exit code 2, like clap's errors).
    #[error("{0}")]
    Usage(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Failed(String),
    #[error("interrupted; nothing was committed")]
    Interrupted,
}

impl CliError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> CliError {
        let what = what.into();
        move |source| CliError::Io { what, source }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Interrupted => EXIT_INTERRUPTED,
            CliError::Table(e) => table_exit_code(e),
            CliError::Io { .. } | CliError::Failed(_) => EXIT_ERROR,
        }
    }

    /// Writing to a closed pipe (`streamhouse scan ... | head`) ends the command quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Any error not listed below.
pub const EXIT_ERROR: i32 = 1;
/// The command line asks for something impossible.
pub const EXIT_USAGE: i32 = 2;
/// A transient failure: storage trouble or a lost commit race; running again may succeed
/// (`EX_TEMPFAIL` of sysexits.h).
pub const EXIT_TRANSIENT: i32 = 75;
/// Interrupted (Ctrl-C, SIGTERM) or cancelled; nothing half-done was committed.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The exit code of a library error, by its kind.
fn table_exit_code(e: &streamhouse::Error) -> i32 {
    match e.kind() {
        ErrorKind::Cancelled => EXIT_INTERRUPTED,
        ErrorKind::Io | ErrorKind::Conflict if e.retryable() => EXIT_TRANSIENT,
        _ => EXIT_ERROR,
    }
}

impl From<arrow::error::ArrowError> for CliError {
    fn from(e: arrow::error::ArrowError) -> Self {
        CliError::Table(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: streamhouse::Error) -> i32 {
        CliError::Table(e).exit_code()
    }

    fn store(kind: &str) -> object_store::Error {
        let path = "t/snapshot/snapshot-2".to_string();
        let source = "injected".into();
        match kind {
            "denied" => object_store::Error::PermissionDenied { path, source },
            "missing" => object_store::Error::NotFound { path, source },
            _ => object_store::Error::Generic {
                store: "faulty",
                source,
            },
        }
    }

    #[test]
    fn library_errors_exit_by_kind() {
        assert_eq!(code(streamhouse::Error::NotFound("table a.b".into())), 1);
        assert_eq!(code(streamhouse::Error::AlreadyExists("a.b".into())), 1);
        assert_eq!(code(streamhouse::Error::corrupt("snapshot-1", "bad")), 1);
        assert_eq!(code(streamhouse::Error::invalid("bucket = x")), 1);
        assert_eq!(code(streamhouse::Error::unsupported("orc")), 1);
        assert_eq!(code(streamhouse::Error::internal("bug")), 1);
        assert_eq!(code(streamhouse::Error::Conflict("lost race".into())), 75);
        assert_eq!(code(streamhouse::Error::storage("p", store("generic"))), 75);
        assert_eq!(code(streamhouse::Error::storage("p", store("denied"))), 1);
        assert_eq!(code(streamhouse::Error::storage("p", store("missing"))), 1);
        assert_eq!(code(streamhouse::Error::Cancelled("stop".into())), 130);
    }

    #[test]
    fn cli_errors_exit_codes() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Interrupted.exit_code(), 130);
        assert_eq!(CliError::Failed("x".into()).exit_code(), 1);
        let io = CliError::io("stdin")(std::io::Error::other("x"));
        assert_eq!(io.exit_code(), 1);
    }
}
