//! Decoding and the librosa-compatible features. Each function takes the parameters librosa's
//! namesake takes (the Python half maps librosa's keywords onto them) and returns numpy arrays
//! in librosa's shapes: `[bins, frames]`, `[1, frames]` for per-frame statistics.

use std::path::PathBuf;

use genre_audio::LoadOptions;
use genre_features::core::{power_to_db_in_place, Complex32, DbRef};
use genre_features::feature::{self, MelSpecParams};
use genre_features::filters::{MelNorm, MelParams};
use genre_features::{Stft, StftParams};
use numpy::ndarray::Array2;
use numpy::{AllowTypeChange, IntoPyArray, PyArray1, PyArray2, PyArrayLikeDyn, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::convert::{array2, array_dyn, detached, matrix, owned, signal};
use crate::InputError;

type Floats<'py> = PyArrayLikeDyn<'py, f32, AllowTypeChange>;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(_stft, m)?)?;
    m.add_function(wrap_pyfunction!(_istft, m)?)?;
    m.add_function(wrap_pyfunction!(_power_to_db, m)?)?;
    m.add_function(wrap_pyfunction!(_mel_filters, m)?)?;
    m.add_function(wrap_pyfunction!(_chroma_filters, m)?)?;
    m.add_function(wrap_pyfunction!(_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(_melspectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(_mfcc, m)?)?;
    m.add_function(wrap_pyfunction!(_mfcc_from_logmel, m)?)?;
    m.add_function(wrap_pyfunction!(_chroma_stft, m)?)?;
    m.add_function(wrap_pyfunction!(_spectral, m)?)?;
    m.add_function(wrap_pyfunction!(_rms, m)?)?;
    m.add_function(wrap_pyfunction!(_zero_crossing_rate, m)?)?;
    m.add_function(wrap_pyfunction!(_hpss, m)?)?;
    m.add_function(wrap_pyfunction!(_tempo, m)?)?;
    m.add_function(wrap_pyfunction!(gtzan57, m)?)?;
    m.add_function(wrap_pyfunction!(gtzan57_names, m)?)?;
    Ok(())
}

fn feature_err(e: genre_features::FeatureError) -> anyhow::Error {
    anyhow::anyhow!(e)
}

/// `librosa.load(path, sr=22050, mono=True, offset=0.0, duration=None)`: mono float32 samples
/// at `sr` (`None` keeps the file's rate) and the rate. Any format genre decodes (WAV, FLAC,
/// MP3, OGG, M4A/AAC); resampled with rubato's FFT resampler (librosa: soxr_hq).
#[pyfunction]
#[pyo3(signature = (path, *, sr=Some(22050), mono=true, offset=0.0, duration=None))]
fn load(
    py: Python<'_>,
    path: PathBuf,
    sr: Option<u32>,
    mono: bool,
    offset: f64,
    duration: Option<f64>,
) -> PyResult<(Bound<'_, PyArray1<f32>>, u32)> {
    if !mono {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(
            "genre.load decodes to mono (mono=False is not supported)",
        ));
    }
    let audio = detached(py, || Ok(genre_audio::load(&path, LoadOptions { sr, offset, duration })?))?;
    Ok((audio.samples.into_pyarray(py), audio.sr))
}

fn stft_params(n_fft: usize, hop: usize, center: bool) -> anyhow::Result<StftParams> {
    let p = StftParams { n_fft, hop, center };
    p.validate().map_err(feature_err)?;
    Ok(p)
}

/// Complex STFT `[1 + n_fft/2, frames]` (complex64), periodic Hann, zero padding when centred.
#[pyfunction]
fn _stft<'py>(
    py: Python<'py>,
    y: Floats<'py>,
    n_fft: usize,
    hop: usize,
    center: bool,
) -> PyResult<Bound<'py, PyArray2<Complex32>>> {
    let y = signal(&y)?;
    let s = detached(py, || genre_features::core::stft(&y, stft_params(n_fft, hop, center)?).map_err(feature_err))?;
    // genre stores frames one after another; numpy gets the transposed view of that buffer.
    let frames = Array2::from_shape_vec((s.n_frames, s.n_bins), s.data).expect("stft shape");
    Ok(frames.reversed_axes().into_pyarray(py))
}

/// Inverse of [`_stft`] (`librosa.istft(..., length=length)`).
#[pyfunction]
fn _istft<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, Complex32>,
    hop: usize,
    length: usize,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let a = s.as_array();
    let (n_bins, n_frames) = a.dim();
    if n_bins < 2 {
        return Err(InputError::new_err("the STFT needs at least 2 frequency bins"));
    }
    let data: Vec<Complex32> = a.t().iter().copied().collect();
    let y = detached(py, || {
        let params = stft_params(2 * (n_bins - 1), hop, true)?;
        Ok(genre_features::core::istft(&Stft { params, n_frames, n_bins, data }, length))
    })?;
    Ok(y.into_pyarray(py))
}

/// `librosa.power_to_db(S, ref=ref_value, amin, top_db)` of an array of any shape.
#[pyfunction]
#[pyo3(signature = (s, ref_value, amin, top_db))]
fn _power_to_db<'py>(
    py: Python<'py>,
    s: Floats<'py>,
    ref_value: f32,
    amin: f32,
    top_db: Option<f32>,
) -> PyResult<Bound<'py, numpy::PyArrayDyn<f32>>> {
    if !(amin > 0.0) {
        return Err(InputError::new_err("amin must be strictly positive"));
    }
    if top_db.is_some_and(|t| !(t >= 0.0)) {
        return Err(InputError::new_err("top_db must be non-negative"));
    }
    let (mut data, shape) = owned(&s);
    py.detach(|| power_to_db_in_place(&mut data, DbRef::Value(ref_value), amin, top_db));
    Ok(array_dyn(py, data, shape))
}

fn mel_params(
    sr: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> MelParams {
    MelParams { sr, n_fft, n_mels, fmin, fmax, htk, norm: if slaney { MelNorm::Slaney } else { MelNorm::None } }
}

/// `librosa.filters.mel`: `[n_mels, 1 + n_fft/2]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _mel_filters(
    py: Python<'_>,
    sr: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> Bound<'_, PyArray2<f32>> {
    array2(py, genre_features::filters::mel(&mel_params(sr, n_fft, n_mels, fmin, fmax, htk, slaney)))
}

/// `librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)`.
#[pyfunction]
fn _chroma_filters(py: Python<'_>, sr: u32, n_fft: usize, tuning: f64, n_chroma: usize) -> Bound<'_, PyArray2<f32>> {
    array2(py, genre_features::filters::chroma(sr, n_fft, tuning, n_chroma))
}

/// `|STFT| ** power`: `[1 + n_fft/2, frames]`.
#[pyfunction]
fn _spectrogram<'py>(
    py: Python<'py>,
    y: Floats<'py>,
    n_fft: usize,
    hop: usize,
    center: bool,
    power: f32,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = signal(&y)?;
    let s = detached(py, || {
        genre_features::core::spectrogram(&y, stft_params(n_fft, hop, center)?, power).map_err(feature_err)
    })?;
    Ok(array2(py, s))
}

#[allow(clippy::too_many_arguments)]
fn melspec_params(
    sr: u32,
    n_fft: usize,
    hop: usize,
    center: bool,
    power: f32,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> anyhow::Result<MelSpecParams> {
    Ok(MelSpecParams {
        stft: stft_params(n_fft, hop, center)?,
        mel: mel_params(sr, n_fft, n_mels, fmin, fmax, htk, slaney),
        power,
    })
}

/// `librosa.feature.melspectrogram(y=y, ...)`: `[n_mels, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _melspectrogram<'py>(
    py: Python<'py>,
    y: Floats<'py>,
    sr: u32,
    n_fft: usize,
    hop: usize,
    center: bool,
    power: f32,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = signal(&y)?;
    let m = detached(py, || {
        let p = melspec_params(sr, n_fft, hop, center, power, n_mels, fmin, fmax, htk, slaney)?;
        feature::melspectrogram(&y, &p).map_err(feature_err)
    })?;
    Ok(array2(py, m))
}

/// `librosa.feature.mfcc(y=y, ...)`: DCT-II (ortho) of the log-mel (ref 1, top_db 80).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _mfcc<'py>(
    py: Python<'py>,
    y: Floats<'py>,
    sr: u32,
    n_mfcc: usize,
    n_fft: usize,
    hop: usize,
    center: bool,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = signal(&y)?;
    let m = detached(py, || {
        let p = melspec_params(sr, n_fft, hop, center, 2.0, n_mels, fmin, fmax, htk, true)?;
        feature::mfcc(&y, &p, n_mfcc).map_err(feature_err)
    })?;
    Ok(array2(py, m))
}

/// `librosa.feature.mfcc(S=log_mel, n_mfcc=...)`.
#[pyfunction]
fn _mfcc_from_logmel<'py>(py: Python<'py>, s: Floats<'py>, n_mfcc: usize) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix(&s)?;
    let m = py.detach(|| feature::mfcc_from_logmel(&s, n_mfcc));
    Ok(array2(py, m))
}

/// `librosa.feature.chroma_stft(S=power, sr=sr, n_chroma=...)`, tuning estimated as librosa does.
#[pyfunction]
fn _chroma_stft<'py>(
    py: Python<'py>,
    power: Floats<'py>,
    sr: u32,
    n_fft: usize,
    n_chroma: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix(&power)?;
    let c = py.detach(|| feature::chroma_stft(&s, sr, n_fft, n_chroma));
    Ok(array2(py, c))
}

/// Spectral statistics of a magnitude spectrogram: `kind` is "centroid", "bandwidth" or
/// "rolloff" (with `roll_percent`); `[1, frames]` as librosa returns them.
#[pyfunction]
fn _spectral<'py>(
    py: Python<'py>,
    kind: &str,
    mag: Floats<'py>,
    sr: u32,
    n_fft: usize,
    roll_percent: f32,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix(&mag)?;
    if s.rows != n_fft / 2 + 1 {
        return Err(InputError::new_err(format!("S has {} bins; n_fft {n_fft} makes {}", s.rows, n_fft / 2 + 1)));
    }
    let v = match kind {
        "centroid" => py.detach(|| feature::spectral_centroid(&s, sr, n_fft)),
        "bandwidth" => py.detach(|| feature::spectral_bandwidth(&s, sr, n_fft)),
        "rolloff" => py.detach(|| feature::spectral_rolloff(&s, sr, n_fft, roll_percent)),
        other => return Err(InputError::new_err(format!("unknown spectral statistic '{other}'"))),
    };
    Ok(row(py, v))
}

fn row(py: Python<'_>, v: Vec<f32>) -> Bound<'_, PyArray2<f32>> {
    let n = v.len();
    Array2::from_shape_vec((1, n), v).expect("one row").into_pyarray(py)
}

/// `librosa.feature.rms(y=y, frame_length, hop_length)`: `[1, frames]`.
#[pyfunction]
fn _rms<'py>(py: Python<'py>, y: Floats<'py>, frame_length: usize, hop: usize) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = signal(&y)?;
    let v = detached(py, || feature::rms(&y, frame_length, hop).map_err(feature_err))?;
    Ok(row(py, v))
}

/// `librosa.feature.zero_crossing_rate(y, frame_length, hop_length)`: `[1, frames]`.
#[pyfunction]
fn _zero_crossing_rate<'py>(
    py: Python<'py>,
    y: Floats<'py>,
    frame_length: usize,
    hop: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = signal(&y)?;
    let v = detached(py, || feature::zero_crossing_rate(&y, frame_length, hop).map_err(feature_err))?;
    Ok(row(py, v))
}

/// `librosa.effects.hpss(y)`: (harmonic, percussive), each as long as `y`.
#[pyfunction]
fn _hpss<'py>(py: Python<'py>, y: Floats<'py>) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>)> {
    let y = signal(&y)?;
    let (h, p) =
        detached(py, || genre_features::decompose::hpss_signals(&y, StftParams::default()).map_err(feature_err))?;
    Ok((h.into_pyarray(py), p.into_pyarray(py)))
}

/// `librosa.feature.tempo(y=y, sr=sr, hop_length=hop)` in BPM, from the onset strength of the
/// default log-mel.
#[pyfunction]
fn _tempo(py: Python<'_>, y: Floats<'_>, sr: u32, hop: usize) -> PyResult<f64> {
    let y = signal(&y)?;
    detached(py, || {
        let p = melspec_params(sr, 2048, hop, true, 2.0, 128, 0.0, None, false, true)?;
        let logmel = feature::logmel(&y, &p, DbRef::Value(1.0), Some(80.0)).map_err(feature_err)?;
        let onset = feature::onset_strength_from_logmel(&logmel, 2048, hop);
        Ok(feature::tempo_from_onset(&onset, sr, hop))
    })
}

/// The 57 GTZAN features of a clip (`features_30_sec.csv`'s columns, [`gtzan57_names`] order)
/// as float64.
#[pyfunction]
#[pyo3(signature = (y, sr=22050))]
fn gtzan57<'py>(py: Python<'py>, y: Floats<'py>, sr: u32) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let y = signal(&y)?;
    let v = detached(py, || genre_features::gtzan::gtzan57(&y, sr).map_err(feature_err))?;
    Ok(v.into_pyarray(py))
}

/// Names of the 57 GTZAN features, in [`gtzan57`]'s order.
#[pyfunction]
fn gtzan57_names() -> Vec<String> {
    genre_features::gtzan::gtzan57_names()
}
