//! The error type shared by all Streamhouse crates. Each variant says what failed and where;
//! [`Error::kind`] says what sort of failure it is, so that callers decide by kind (retry,
//! report "not found", exit with a code) and never by an error's text.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What sort of failure an [`Error`] is. Callers decide by kind, not by message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Something that should exist does not: a table, a snapshot, a tag, a file.
    NotFound,
    /// Something already exists: a table on create, a tag.
    AlreadyExists,
    /// Concurrent writers changed what an operation depends on (a lost commit race, a
    /// create-only put that found the object there). Trying again may succeed.
    Conflict,
    /// A metadata or data file exists but cannot be decoded; [`Error::path`] names it.
    Corrupt,
    /// The caller's input does not fit: a schema, an option value, an argument, rows.
    InvalidInput,
    /// A feature of the table that this version does not handle. Never silently ignored.
    Unsupported,
    /// Storage failed (network, permissions, disk); [`Error::retryable`] says whether trying
    /// again may help.
    Io,
    /// The operation was cancelled before it finished; nothing of it was committed.
    Cancelled,
    /// An invariant of this program broke (a bug), or a task of it failed.
    Internal,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "I/O",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// Storage failed (network, permissions, disk), or an object was missing or already there;
    /// the kind follows the object store's error.
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
    /// Encoding a file we write (Avro, Parquet) failed for a reason that is not storage.
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The operation was cancelled (a compaction stopped by its service, an interrupt).
    #[error("{0}")]
    Cancelled(String),
    /// An invariant of this program broke, or one of its tasks failed (panicked).
    #[error("internal error: {0}")]
    Internal(String),
    /// Another error with the table, snapshot and file it happened in; [`Error::kind`],
    /// [`Error::retryable`], `source()` and the message are the inner error's, the message
    /// followed by the context. Made by [`Error::with_table`], [`Error::with_snapshot`] and
    /// [`Error::with_file`]; read with [`Error::context`].
    #[error(transparent)]
    Context(Box<ContextError>),
}

/// Where an error happened, as far as the code it passed through knew: the table
/// (`db.table`), the snapshot id, the file (or object) path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorContext {
    pub table: Option<String>,
    pub snapshot: Option<i64>,
    pub file: Option<String>,
}

/// An [`Error`] with its [`ErrorContext`]: the payload of [`Error::Context`].
#[derive(Debug)]
pub struct ContextError {
    error: Error,
    context: ErrorContext,
}

impl fmt::Display for ContextError {
    /// The inner message, then the context in parentheses; what the inner message already
    /// names (`table T`, `snapshot N`, the file's path) is not repeated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.context;
        let message = self.error.to_string();
        // `part` stands in the message as a whole word ("snapshot 1" is not in "snapshot 19").
        let unsaid = |part: String| {
            let said = message.match_indices(&part).any(|(at, _)| {
                !message[at + part.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            (!said).then_some(part)
        };
        let parts: Vec<String> = [
            c.table.as_ref().and_then(|t| unsaid(format!("table {t}"))),
            c.snapshot.and_then(|s| unsaid(format!("snapshot {s}"))),
            c.file
                .as_deref()
                .filter(|f| !message.contains(f))
                .map(|f| format!("file {f}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        match parts.is_empty() {
            true => f.write_str(&message),
            false => write!(f, "{message} ({})", parts.join(", ")),
        }
    }
}

impl std::error::Error for ContextError {
    /// The inner error's source: the inner error itself is already in the message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

fn fmt_location(l: &Option<String>) -> String {
    match l {
        Some(l) => format!(" at {l}"),
        None => String::new(),
    }
}

/// The kind of an object-store failure: a missing object is NotFound; an object that a
/// create-only put found there (or a failed precondition) is a Conflict; the store refusing
/// an operation is Unsupported; everything else is Io.
fn object_store_kind(e: &object_store::Error) -> ErrorKind {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => ErrorKind::NotFound,
        E::AlreadyExists { .. } | E::Precondition { .. } => ErrorKind::Conflict,
        E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Unsupported,
        E::InvalidPath { .. } | E::UnknownConfigurationKey { .. } => ErrorKind::InvalidInput,
        _ => ErrorKind::Io,
    }
}

fn arrow_kind(e: &arrow::error::ArrowError) -> ErrorKind {
    use arrow::error::ArrowError as A;
    match e {
        A::IoError(..) => ErrorKind::Io,
        A::ExternalError(inner) => match inner.downcast_ref::<Error>() {
            Some(e) => e.kind(),
            None => match inner.downcast_ref::<object_store::Error>() {
                Some(o) => object_store_kind(o),
                None => ErrorKind::Internal,
            },
        },
        A::NotYetImplemented(_) => ErrorKind::Unsupported,
        A::CastError(_)
        | A::ParseError(_)
        | A::InvalidArgumentError(_)
        | A::ComputeError(_)
        | A::SchemaError(_)
        | A::DivideByZero
        | A::ArithmeticOverflow(_) => ErrorKind::InvalidInput,
        _ => ErrorKind::Internal,
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
    pub fn internal(msg: impl fmt::Display) -> Self {
        Error::Internal(msg.to_string())
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
    pub fn encode(
        what: impl fmt::Display,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Encode {
            what: what.to_string(),
            source: source.into(),
        }
    }

    /// An error that a library (Parquet's `External`, Arrow's `ExternalError`) wraps around
    /// one of ours or an object store's: a storage failure on `path` stays a storage failure
    /// (kind by the store's error) and our own error comes back as it was; anything else is
    /// what `otherwise` makes of it (Corrupt when reading, Encode when writing).
    pub fn from_external(
        path: impl fmt::Display,
        inner: Box<dyn std::error::Error + Send + Sync>,
        otherwise: impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error,
    ) -> Self {
        let inner = match inner.downcast::<object_store::Error>() {
            Ok(o) => return Error::storage(path, *o),
            Err(inner) => inner,
        };
        match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(inner) => otherwise(inner),
        }
    }

    /// This error with `edit` applied to its context; a context set further in (closer to
    /// where the error happened) is kept.
    fn in_context(self, edit: impl FnOnce(&mut ErrorContext)) -> Self {
        let mut inner = match self {
            Error::Context(c) => c,
            error => Box::new(ContextError {
                error,
                context: ErrorContext::default(),
            }),
        };
        edit(&mut inner.context);
        Error::Context(inner)
    }

    /// This error, saying it happened in table `table` (unless it already names one).
    pub fn with_table(self, table: impl fmt::Display) -> Self {
        self.in_context(|c| {
            c.table.get_or_insert_with(|| table.to_string());
        })
    }

    /// This error, saying it happened in snapshot `id` (unless it already names one).
    pub fn with_snapshot(self, id: i64) -> Self {
        self.in_context(|c| {
            c.snapshot.get_or_insert(id);
        })
    }

    /// This error, saying it happened in file `file` (unless it already names one).
    pub fn with_file(self, file: impl fmt::Display) -> Self {
        self.in_context(|c| {
            c.file.get_or_insert_with(|| file.to_string());
        })
    }

    /// The table, snapshot and file this error happened in, as far as they are known; the
    /// file falls back to [`Error::path`].
    pub fn context(&self) -> ErrorContext {
        let mut context = match self {
            Error::Context(c) => c.context.clone(),
            _ => ErrorContext::default(),
        };
        if context.file.is_none() {
            context.file = self.path().map(str::to_string);
        }
        context
    }

    /// The error without its context: the variant that says what failed.
    pub fn without_context(&self) -> &Error {
        match self {
            Error::Context(c) => &c.error,
            e => e,
        }
    }

    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Schema(_) | Error::Input { .. } | Error::Invalid(_) => ErrorKind::InvalidInput,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Storage { source, .. } => object_store_kind(source),
            Error::Arrow { source, .. } => arrow_kind(source),
            Error::Encode { source, .. } => match source.downcast_ref::<object_store::Error>() {
                Some(o) => object_store_kind(o),
                None => ErrorKind::Internal,
            },
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Context(c) => c.error.kind(),
        }
    }

    /// Whether trying the same operation again may succeed: transient storage trouble (kind
    /// [`ErrorKind::Io`]) or a lost commit race ([`ErrorKind::Conflict`]).
    /// Refused credentials are kind Io but not retryable.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Storage {
                source:
                    object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. },
                ..
            } => false,
            Error::Context(c) => c.error.retryable(),
            e => matches!(e.kind(), ErrorKind::Io | ErrorKind::Conflict),
        }
    }

    /// The file (or object) the error is about, when it names one: a corrupt file, a failed
    /// storage request, or a file its context names.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Corrupt { path, .. } | Error::Storage { path, .. } => Some(path),
            Error::Context(c) => c.error.path().or(c.context.file.as_deref()),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn store_error(kind: &str) -> object_store::Error {
        let source: Box<dyn std::error::Error + Send + Sync> = "boom".into();
        let path = "t/snapshot/snapshot-3".to_string();
        match kind {
            "not_found" => object_store::Error::NotFound { path, source },
            "exists" => object_store::Error::AlreadyExists { path, source },
            "precondition" => object_store::Error::Precondition { path, source },
            "denied" => object_store::Error::PermissionDenied { path, source },
            _ => object_store::Error::Generic {
                store: "faulty",
                source,
            },
        }
    }

    #[test]
    fn kinds_of_variants() {
        assert_eq!(Error::NotFound("x".into()).kind(), ErrorKind::NotFound);
        assert_eq!(
            Error::AlreadyExists("x".into()).kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(Error::Conflict("x".into()).kind(), ErrorKind::Conflict);
        assert_eq!(Error::corrupt("f", "bad").kind(), ErrorKind::Corrupt);
        assert_eq!(Error::corrupt("f", "bad").path(), Some("f"));
        assert_eq!(Error::invalid("x").kind(), ErrorKind::InvalidInput);
        assert_eq!(Error::schema("x").kind(), ErrorKind::InvalidInput);
        assert_eq!(
            Error::input_at("line 2", "x").kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(Error::unsupported("x").kind(), ErrorKind::Unsupported);
        assert_eq!(Error::Cancelled("x".into()).kind(), ErrorKind::Cancelled);
        assert_eq!(Error::internal("x").kind(), ErrorKind::Internal);
        assert!(!Error::corrupt("f", "bad").retryable());
        assert!(Error::Conflict("x".into()).retryable());
    }

    #[test]
    fn storage_errors_take_the_kind_of_the_store_error() {
        let e = Error::storage("snapshot-3", store_error("generic"));
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.retryable());
        assert_eq!(e.path(), Some("snapshot-3"));
        assert!(e.source().is_some(), "the store error is the source");
        let e = Error::storage("snapshot-3", store_error("not_found"));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.retryable());
        let e = Error::storage("snapshot-3", store_error("denied"));
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(
            !e.retryable(),
            "refused credentials do not get better by retrying"
        );
        for create_only in ["exists", "precondition"] {
            let e = Error::storage("snapshot-3", store_error(create_only));
            assert_eq!(e.kind(), ErrorKind::Conflict, "{create_only}");
        }
    }

    #[test]
    fn wrapped_errors_keep_their_kind() {
        // Parquet and Arrow wrap object-store errors; a failing GET is Io, not Corrupt.
        let e = Error::from_external("data-1.parquet", Box::new(store_error("generic")), |e| {
            Error::corrupt("data-1.parquet", e)
        });
        assert_eq!(e.kind(), ErrorKind::Io);
        let e = Error::from_external("data-1.parquet", "bad magic".into(), |e| {
            Error::corrupt("data-1.parquet", e)
        });
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let ours = Error::from_external("x", Box::new(Error::Cancelled("stop".into())), |e| {
            Error::encode("x", e)
        });
        assert_eq!(ours.kind(), ErrorKind::Cancelled);
        let arrow = Error::from(arrow::error::ArrowError::ExternalError(Box::new(
            Error::NotFound("snapshot 4".into()),
        )));
        assert_eq!(arrow.kind(), ErrorKind::NotFound);
        let cast = Error::from(arrow::error::ArrowError::CastError("x".into()));
        assert_eq!(cast.kind(), ErrorKind::InvalidInput);
        let encode = Error::encode("manifest", "no schema");
        assert_eq!(encode.kind(), ErrorKind::Internal);
        assert!(encode.source().is_some());
    }

    #[test]
    fn context_travels_with_the_error() {
        let inner = Error::storage("t/manifest/m-1", store_error("generic"));
        let e = inner
            .with_file("t/manifest/m-1")
            .with_snapshot(3)
            .with_table("db.t")
            .with_table("db.other");
        assert_eq!(e.kind(), ErrorKind::Io, "the inner error's kind");
        assert!(e.retryable());
        assert_eq!(e.path(), Some("t/manifest/m-1"));
        let c = e.context();
        assert_eq!(
            c.table.as_deref(),
            Some("db.t"),
            "the innermost table is kept"
        );
        assert_eq!(c.snapshot, Some(3));
        assert_eq!(c.file.as_deref(), Some("t/manifest/m-1"));
        assert!(matches!(e.without_context(), Error::Storage { .. }));
        // The store error is the source, as without the context: the inner error's own
        // message is not repeated down the chain.
        let source = e.source().expect("a source").to_string();
        assert!(source.contains("boom"), "{source}");
        let message = e.to_string();
        assert!(message.contains("table db.t"), "{message}");
        assert!(message.contains("snapshot 3"), "{message}");
        assert!(!message.contains("db.other"), "{message}");
        assert_eq!(
            message.matches("t/manifest/m-1").count(),
            1,
            "the file is named once: {message}"
        );
        let denied = Error::storage("x", store_error("denied")).with_table("db.t");
        assert!(!denied.retryable());
    }

    #[test]
    fn context_names_what_the_message_does_not() {
        let e = Error::NotFound("schema".into()).with_table("db.t");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.to_string(), "not found: schema (table db.t)");
        assert_eq!(e.path(), None);
        let e = Error::Conflict("lost".into())
            .with_snapshot(7)
            .with_file("t/snapshot/snapshot-7");
        assert_eq!(e.path(), Some("t/snapshot/snapshot-7"));
        assert_eq!(
            e.to_string(),
            "commit conflict: lost (snapshot 7, file t/snapshot/snapshot-7)"
        );
        // Without a wrapper the context still names the file of a corrupt file.
        let c = Error::corrupt("f", "bad").context();
        assert_eq!(
            (c.table, c.snapshot, c.file.as_deref()),
            (None, None, Some("f"))
        );
        assert_eq!(Error::invalid("x").context(), ErrorContext::default());
        // What the message already says is not said again; the context still has it.
        let e = Error::NotFound("snapshot 9 of table db.t".into())
            .with_table("db.t")
            .with_snapshot(9);
        assert_eq!(e.to_string(), "not found: snapshot 9 of table db.t");
        assert_eq!(e.context().snapshot, Some(9));
        let e = Error::NotFound("snapshot 19 of table db.tx".into())
            .with_table("db.t")
            .with_snapshot(1);
        assert_eq!(
            e.to_string(),
            "not found: snapshot 19 of table db.tx (table db.t, snapshot 1)"
        );
    }
}
