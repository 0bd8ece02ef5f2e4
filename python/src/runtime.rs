//! The tokio runtime every call runs on, and [`block`]: run a future to its end with the GIL
//! released, checking for signals (Ctrl-C) while it waits when called on the main thread.

use std::future::Future;
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::{failure_to_py, Failure, Outcome};

/// How often a waiting call looks for a signal (Python's handlers run only then).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Notes the thread importing the module: Python runs signal handlers on the main thread only.
pub fn remember_main_thread() {
    let _ = MAIN_THREAD.set(std::thread::current().id());
}

fn on_main_thread() -> bool {
    MAIN_THREAD.get() == Some(&std::thread::current().id())
}

pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("streamhouse")
            .build()
            .expect("cannot start the tokio runtime")
    })
}

/// Raises `KeyboardInterrupt` (or what a signal handler raised) if a signal arrived. Only the
/// main thread runs handlers, so elsewhere this is a no-op that does not take the GIL.
pub fn check_signals() -> Outcome<()> {
    if on_main_thread() {
        Python::attach(|py| py.check_signals())?;
    }
    Ok(())
}

/// Drives `fut` to its end on the runtime, from a thread that does not hold the GIL. On the
/// main thread it checks for signals every [`SIGNAL_CHECK`]; a signal drops the future (what
/// it was doing stops at its next await point) and returns the exception.
pub fn block<T, F>(fut: F) -> Outcome<T>
where
    F: Future<Output = Outcome<T>>,
{
    let watch = on_main_thread();
    runtime().block_on(async move {
        tokio::pin!(fut);
        if !watch {
            return fut.await;
        }
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + SIGNAL_CHECK, SIGNAL_CHECK);
        loop {
            tokio::select! {
                r = &mut fut => return r,
                _ = tick.tick() => check_signals()?,
            }
        }
    })
}

/// [`block`] with the GIL released, errors turned into Python exceptions.
pub fn wait<T, F>(py: Python<'_>, make: impl FnOnce() -> F + Send) -> PyResult<T>
where
    T: Send,
    F: Future<Output = Outcome<T>>,
{
    py.detach(|| block(make()))
        .map_err(|f| failure_to_py(py, f))
}

/// [`wait`] for a library future.
pub fn wait_lib<T, F>(py: Python<'_>, make: impl FnOnce() -> F + Send) -> PyResult<T>
where
    T: Send,
    F: Future<Output = streamhouse::Result<T>>,
{
    wait(py, || {
        let fut = make();
        async move { fut.await.map_err(Failure::from) }
    })
}
