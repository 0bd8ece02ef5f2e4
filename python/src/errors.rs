//! Library errors as Python exceptions: the classes live in `streamhouse/_errors.py`
//! (`StreamhouseError` and one subclass per [`ErrorKind`]), looked up by name here.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;
use streamhouse::{Error, ErrorKind};

/// What a call that released the GIL can fail with: a library error (turned into its Python
/// class once the GIL is held again) or a Python error (a signal, a failing input stream).
pub enum Failure {
    Lib(Error),
    Py(PyErr),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Py(e)
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// The exception class name of a kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "NotFound",
        ErrorKind::AlreadyExists => "AlreadyExists",
        ErrorKind::Conflict => "Conflict",
        ErrorKind::Corrupt => "Corrupt",
        ErrorKind::InvalidInput => "InvalidInput",
        ErrorKind::Unsupported => "Unsupported",
        ErrorKind::Io => "StorageError",
        _ => "StreamhouseError",
    }
}

/// The Python exception of a library error: its class by kind, the message, and the
/// attributes `kind` (as the library spells it) and `retryable`.
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let kind = e.kind();
    let message = e.to_string();
    let make = || -> PyResult<PyErr> {
        let module = py.import("streamhouse._errors")?;
        let class = module.getattr(class_name(kind))?.cast_into::<PyType>()?;
        let err = PyErr::from_type(class, (message.clone(),));
        let value = err.value(py);
        value.setattr("kind", kind.to_string())?;
        value.setattr("retryable", e.retryable())?;
        Ok(err)
    };
    make().unwrap_or_else(|lookup| {
        PyRuntimeError::new_err(format!("{message} (and its exception class: {lookup})"))
    })
}

/// [`to_py`] for either side of a [`Failure`].
pub fn failure_to_py(py: Python<'_>, f: Failure) -> PyErr {
    match f {
        Failure::Lib(e) => to_py(py, e),
        Failure::Py(e) => e,
    }
}

/// Runs `f` and turns a library error into its exception.
pub fn lib<T>(py: Python<'_>, r: streamhouse::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_py(py, e))
}

/// An `InvalidInput` exception with a message of ours.
pub fn invalid(py: Python<'_>, msg: impl std::fmt::Display) -> PyErr {
    to_py(py, Error::invalid(msg))
}
