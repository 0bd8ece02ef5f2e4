//! The error type shared by all Streamhouse crates. Each variant says what failed and where.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A schema or type definition is invalid.
    #[error("invalid schema: {0}")]
    Schema(String),
    /// A metadata or data file exists but cannot be decoded.
    #[error("corrupt file {path}: {detail}")]
    Corrupt { path: String, detail: String },
    /// Input rows (CSV, JSON, Arrow batches) do not fit the table.
    #[error("bad input{}: {detail}", fmt_location(.location))]
    Input {
        location: Option<String>,
        detail: String,
    },
    /// Something that should exist does not (table, snapshot, file).
    #[error("not found: {0}")]
    NotFound(String),
    /// Something already exists (a table on create).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A feature of the table that this version does not handle. Never silently ignored.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A commit could not be made because concurrent commits changed what it depends on.
    #[error("commit conflict: {0}")]
    Conflict(String),
    /// A bad option value or argument.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// Storage failed (network, permissions, disk).
    #[error("storage error at {path}: {source}")]
    Storage {
        path: String,
        #[source]
        source: object_store::Error,
    },
    #[error("arrow error{}: {source}", fmt_location(.context))]
    Arrow {
        context: Option<String>,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("{0}")]
    Other(String),
}

fn fmt_location(l: &Option<String>) -> String {
    match l {
        Some(l) => format!(" at {l}"),
        None => String::new(),
    }
}

impl Error {
    pub fn schema(msg: impl fmt::Display) -> Self {
        Error::Schema(msg.to_string())
    }
    pub fn corrupt(path: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Error::Corrupt {
            path: path.to_string(),
            detail: detail.to_string(),
        }
    }
    pub fn input(detail: impl fmt::Display) -> Self {
        Error::Input {
            location: None,
            detail: detail.to_string(),
        }
    }
    pub fn input_at(location: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Error::Input {
            location: Some(location.to_string()),
            detail: detail.to_string(),
        }
    }
    pub fn unsupported(msg: impl fmt::Display) -> Self {
        Error::Unsupported(msg.to_string())
    }
    pub fn invalid(msg: impl fmt::Display) -> Self {
        Error::Invalid(msg.to_string())
    }
    pub fn storage(path: impl fmt::Display, source: object_store::Error) -> Self {
        Error::Storage {
            path: path.to_string(),
            source,
        }
    }
    pub fn arrow(context: impl fmt::Display, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            context: Some(context.to_string()),
            source,
        }
    }
    /// Whether trying the same operation again may succeed (transient storage trouble or a
    /// lost commit race).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Storage { .. } | Error::Conflict(_))
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            context: None,
            source,
        }
    }
}
