//! The CLI's error: a library error, an I/O failure on a named file or stream, or a usage
//! problem. `main` prints `error: <message>` and exits with [`CliError::exit_code`].

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
            CliError::Usage(_) => 2,
            CliError::Interrupted => 130,
            _ => 1,
        }
    }

    /// Writing to a closed pipe (`streamhouse scan ... | head`) ends the command quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<arrow::error::ArrowError> for CliError {
    fn from(e: arrow::error::ArrowError) -> Self {
        CliError::Table(e.into())
    }
}
