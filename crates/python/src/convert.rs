//! Between Python and Rust: errors to exceptions, inputs (path, bytes, signal) to files the
//! pipeline reads, serde values to Python objects, numpy arrays in and out.

use std::path::PathBuf;

use genre_audio::wav::{write_wav, WavFormat};
use numpy::ndarray::{Array2, ArrayD, Axis};
use numpy::{AllowTypeChange, IntoPyArray, PyArray2, PyArrayLikeDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use serde::Serialize;

use crate::{FileError, InputError};

/// The error's chain as one line, `outer: inner: ...`. A cause whose text an outer message
/// already quotes is left out: several library errors print their source themselves (`{path}:
/// cannot open: {source}`), which anyhow's `{:#}` would repeat.
pub fn describe(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if !msg.contains(&cause) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&cause);
        }
    }
    msg
}

/// An error as the exception that fits: [`FileError`] (an `OSError`) when a file could not be
/// opened or read, [`InputError`] (a `ValueError`) otherwise. The message is the whole chain.
pub fn to_py_err(e: anyhow::Error) -> PyErr {
    let msg = describe(&e);
    if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some()) {
        FileError::new_err(msg)
    } else {
        InputError::new_err(msg)
    }
}

/// Run `f` with the GIL released (other Python threads go on), its error as an exception.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> anyhow::Result<T> + Send) -> PyResult<T> {
    py.detach(f).map_err(to_py_err)
}

/// A serde value as the Python object `json.loads` makes of it (dicts, lists, floats).
pub fn to_python<'py>(py: Python<'py>, v: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(|e| InputError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// What the models accept: a file's path, the bytes of an audio file, or a signal.
pub enum Input {
    Path(PathBuf),
    Bytes(Vec<u8>),
    /// Mono samples and their rate.
    Signal(Vec<f32>, u32),
}

impl Input {
    /// `x` as an input: `str`/`os.PathLike` = a path, `bytes`/`bytearray` = a file's bytes,
    /// anything numpy takes as a float array = a signal (1-D, or `[channels, samples]` mixed to
    /// mono as librosa's `to_mono` does), which needs `sr`.
    pub fn extract(x: &Bound<'_, PyAny>, sr: Option<u32>) -> PyResult<Self> {
        if x.is_instance_of::<PyBytes>() || x.is_instance_of::<PyByteArray>() {
            return Ok(Input::Bytes(x.extract::<Vec<u8>>()?));
        }
        if let Ok(p) = x.extract::<PathBuf>() {
            return Ok(Input::Path(p));
        }
        let Ok(a) = x.extract::<PyArrayLikeDyn<'_, f32, AllowTypeChange>>() else {
            return Err(InputError::new_err("expected a path, the bytes of an audio file, or a numpy signal"));
        };
        let sr = sr.ok_or_else(|| InputError::new_err("a signal needs its sample rate: pass sr="))?;
        Ok(Input::Signal(mono(a.as_array().to_owned())?, sr))
    }

    /// A file the pipeline can read, and the name answers show for it. Bytes and signals go to
    /// a private temporary file: the decoder (with its fast WAV path and its checks against
    /// hostile headers) and the streamed windowing then serve every input alike, so a signal
    /// gets exactly the answer its WAV file would.
    pub fn stage(self) -> anyhow::Result<Staged> {
        match self {
            Input::Path(p) => Ok(Staged { name: p.display().to_string(), path: p, _dir: None }),
            Input::Bytes(b) => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("input");
                std::fs::write(&path, b)?;
                Ok(Staged { path, name: "<bytes>".into(), _dir: Some(dir) })
            }
            Input::Signal(y, sr) => {
                if y.iter().any(|v| !v.is_finite()) {
                    anyhow::bail!("<signal>: holds NaN or infinite samples");
                }
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("signal.wav");
                write_wav(&path, &y, sr, 1, WavFormat::Float32)?;
                Ok(Staged { path, name: "<signal>".into(), _dir: Some(dir) })
            }
        }
    }
}

/// An input on disk; a temporary one is removed when this is dropped.
pub struct Staged {
    pub path: PathBuf,
    pub name: String,
    _dir: Option<tempfile::TempDir>,
}

impl Staged {
    /// `e` with the temporary file's path replaced by the input's name (a caller never sees
    /// our temporary folder).
    pub fn rename_err(&self, e: anyhow::Error) -> anyhow::Error {
        if self._dir.is_none() {
            return e;
        }
        anyhow::anyhow!("{}", describe(&e).replace(&self.path.display().to_string(), &self.name))
    }
}

/// A 1-D signal, or the mean over channels of a `[channels, samples]` one. Collected by
/// iteration (logical order): a raw vector would be in memory order, reversed for `y[::-1]`.
fn mono(a: ArrayD<f32>) -> PyResult<Vec<f32>> {
    match a.ndim() {
        1 => Ok(a.iter().copied().collect()),
        2 => Ok(a.mean_axis(Axis(0)).expect("non-empty channel axis").iter().copied().collect()),
        n => Err(InputError::new_err(format!("a signal is 1-D or [channels, samples], not {n}-D"))),
    }
}

/// A float array of any shape as a row-major copy (the GIL can then be released while Rust
/// reads it) and its shape.
pub fn owned(a: &PyArrayLikeDyn<'_, f32, AllowTypeChange>) -> (Vec<f32>, Vec<usize>) {
    let shape = a.shape().to_vec();
    // `as_slice` also accepts Fortran-ordered arrays (memory order then differs from the
    // row-major order genre reads, e.g. `np.abs(genre.stft(y))`): only C order is copied as is.
    let data = match a.as_slice() {
        Ok(s) if a.is_c_contiguous() => s.to_vec(),
        _ => a.as_array().iter().copied().collect(),
    };
    (data, shape)
}

/// A signal argument: 1-D float samples (copied once so the GIL can be released).
pub fn signal(y: &PyArrayLikeDyn<'_, f32, AllowTypeChange>) -> PyResult<Vec<f32>> {
    if y.ndim() != 1 {
        return Err(InputError::new_err(format!("y must be a 1-D signal (got {}-D); mix to mono first", y.ndim())));
    }
    let y = owned(y).0;
    // librosa refuses these too ("Audio buffer is not finite everywhere"); without the check a
    // single NaN would silently turn whole frames of every feature into NaN.
    if y.iter().any(|v| !v.is_finite()) {
        return Err(InputError::new_err("y holds NaN or infinite samples"));
    }
    Ok(y)
}

/// genre's row-major `[rows, cols]` array handed to numpy without a copy.
pub fn array2(py: Python<'_>, a: genre_features::Array2) -> Bound<'_, PyArray2<f32>> {
    Array2::from_shape_vec((a.rows, a.cols), a.data).expect("shape matches data").into_pyarray(py)
}

/// A matrix argument (`S=`): 2-D floats as genre's array.
pub fn matrix(s: &PyArrayLikeDyn<'_, f32, AllowTypeChange>) -> PyResult<genre_features::Array2> {
    let (data, shape) = owned(s);
    match shape[..] {
        [rows, cols] => Ok(genre_features::Array2::from_vec(rows, cols, data)),
        _ => Err(InputError::new_err(format!("S must be 2-D [bins, frames] (got {}-D)", shape.len()))),
    }
}

/// A mutable float array of `shape` back to numpy.
pub fn array_dyn(py: Python<'_>, data: Vec<f32>, shape: Vec<usize>) -> Bound<'_, numpy::PyArrayDyn<f32>> {
    ArrayD::from_shape_vec(shape, data).expect("shape matches data").into_pyarray(py)
}
