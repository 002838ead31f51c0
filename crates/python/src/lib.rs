//! `genre._genre`: the compiled half of the `genre` Python package. A thin layer over the
//! library crates: arguments in, numpy arrays and dicts out, the GIL released while Rust
//! works, every error a Python exception naming the input and the cause. The librosa-style
//! keyword handling lives in the pure-Python half (`python/genre/`), which calls the
//! `_`-prefixed functions here.

mod convert;
mod features;
mod models;

use pyo3::prelude::*;

pyo3::create_exception!(
    _genre,
    FileError,
    pyo3::exceptions::PyOSError,
    "A file genre could not open or read (missing, unreadable, not a regular file)."
);
pyo3::create_exception!(
    _genre,
    InputError,
    pyo3::exceptions::PyValueError,
    "Input genre cannot use: undecodable audio, a bad model, data or parameter."
);

#[pymodule]
fn _genre(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    features::register(m)?;
    models::register(m)?;
    Ok(())
}
