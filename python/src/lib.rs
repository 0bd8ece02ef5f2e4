//! `streamhouse._streamhouse`: the native half of the Python package `streamhouse`.
//!
//! Python classes over the `streamhouse` crate: [`catalog::PyCatalog`] (`Catalog`),
//! [`table::PyTable`] (`Table`), and the iterators behind scans and tails
//! ([`stream::ScanBatches`], [`stream::TailBatches`]). Arrow data crosses the boundary through
//! the Arrow C data and stream interfaces (PyCapsules), without copies. Every call that does
//! I/O or decoding releases the GIL and, on the main thread, checks for signals while it waits
//! ([`runtime::block`]), so Ctrl-C raises `KeyboardInterrupt`. The pure-Python half
//! (`python/streamhouse/`) turns inputs into Arrow streams and defines the exceptions.

mod catalog;
mod errors;
mod runtime;
mod schema;
mod stream;
mod table;

use pyo3::prelude::*;

#[pymodule]
fn _streamhouse(m: &Bound<'_, PyModule>) -> PyResult<()> {
    runtime::remember_main_thread();
    m.add_class::<catalog::PyCatalog>()?;
    m.add_class::<table::PyTable>()?;
    m.add_class::<stream::ScanBatches>()?;
    m.add_class::<stream::TailBatches>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
