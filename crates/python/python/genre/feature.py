"""librosa.feature's namesakes: mel spectrogram, MFCC, chroma, spectral statistics, RMS,
zero-crossing rate and tempo, with librosa's argument names, defaults and shapes.

Every function takes a 1-D float signal ``y`` (or a spectrogram ``S`` where librosa does) and
returns ``[bands, frames]`` (``[1, frames]`` for per-frame statistics) in librosa's dtype:
float32, except float64 for the spectral centroid, bandwidth, roll-off and zero-crossing rate.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import numpy as np

from . import _genre
from ._checks import framing, mel_norm, rate, require, unsupported
from .core import power_to_db

__all__ = [
    "melspectrogram",
    "mfcc",
    "chroma_stft",
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff",
    "rms",
    "zero_crossing_rate",
    "tempo",
]


def _spectrum(
    y: Optional[np.ndarray],
    S: Optional[np.ndarray],
    n_fft: int,
    hop_length: Optional[int],
    win_length: Optional[int],
    window: Any,
    center: bool,
    pad_mode: Any,
    power: float,
) -> Tuple[np.ndarray, int]:
    """librosa's ``_spectrogram``: ``S`` as given (its n_fft read from its bins), or
    ``|stft(y)| ** power``."""
    if S is not None:
        S = np.asarray(S)
        if S.ndim != 2:
            raise ValueError(f"S must be 2-D [bins, frames] (got {S.ndim}-D)")
        return S, 2 * (S.shape[0] - 1)
    if y is None:
        raise ValueError("either y or S must be given")
    n_fft, hop, center = framing(n_fft, hop_length, win_length, window, center, pad_mode)
    return _genre._spectrogram(y, n_fft, hop, center, float(power)), n_fft


def _nonnegative(S: np.ndarray, what: str) -> None:
    if np.iscomplexobj(S):
        raise ValueError(f"{what} is only defined with real-valued input")
    if np.any(S < 0):
        raise ValueError(f"{what} is only defined with non-negative energies")


def melspectrogram(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Optional[str] = "slaney",
) -> np.ndarray:
    """Mel spectrogram ``[n_mels, frames]``, as ``librosa.feature.melspectrogram``.

    From ``y``: ``|stft(y)| ** power`` projected on :func:`genre.filters.mel` (fused, never
    holding the STFT). From ``S`` (a ``[1 + n_fft//2, frames]`` spectrogram): ``mel @ S``.
    """
    sr = rate(sr)
    slaney = mel_norm(norm)
    fmax = None if fmax is None else float(fmax)
    if S is not None:
        S, n_fft = _spectrum(None, S, n_fft, hop_length, win_length, window, center, pad_mode, power)
        fb = _genre._mel_filters(sr, n_fft, n_mels, float(fmin), fmax, bool(htk), slaney)
        return (fb @ S).astype(np.float32, copy=False)
    if y is None:
        raise ValueError("either y or S must be given")
    n_fft, hop, center = framing(n_fft, hop_length, win_length, window, center, pad_mode)
    return _genre._melspectrogram(y, sr, n_fft, hop, center, float(power), n_mels, float(fmin), fmax, bool(htk), slaney)


def mfcc(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_mfcc: int = 20,
    dct_type: int = 2,
    norm: Optional[str] = "ortho",
    lifter: float = 0,
    mel_norm: Optional[str] = "slaney",
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
) -> np.ndarray:
    """MFCC ``[n_mfcc, frames]``, as ``librosa.feature.mfcc``: orthonormal DCT-II of the
    log-power mel spectrogram (``power_to_db``, ref 1.0, top_db 80), or of ``S`` when given
    (``S`` is then a log-power mel spectrogram)."""
    if dct_type != 2:
        raise unsupported("dct_type", dct_type, "2")
    if norm != "ortho":
        raise unsupported("norm", norm, "'ortho'")
    if lifter < 0:
        raise ValueError(f"MFCC lifter={lifter} must be a non-negative number")
    if S is not None:
        M = _genre._mfcc_from_logmel(S, n_mfcc)
    elif y is None:
        raise ValueError("either y or S must be given")
    elif power == 2.0 and mel_norm == "slaney":
        # The common case in one call: STFT, mel, dB and DCT fused in Rust.
        n_fft, hop, center = framing(n_fft, hop_length, win_length, window, center, pad_mode)
        fmax = None if fmax is None else float(fmax)
        M = _genre._mfcc(y, rate(sr), n_mfcc, n_fft, hop, center, n_mels, float(fmin), fmax, bool(htk))
    else:
        mel = melspectrogram(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
            pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=mel_norm,
        )  # fmt: skip
        M = _genre._mfcc_from_logmel(power_to_db(mel), n_mfcc)
    if lifter > 0:
        # librosa's sinusoidal liftering of the cepstrum, in the same float32 arithmetic.
        li = np.sin(np.pi * np.arange(1, 1 + M.shape[0], dtype=M.dtype) / lifter)
        M *= (1 + (lifter / 2) * li)[:, np.newaxis]
    return M


def chroma_stft(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    norm: Optional[float] = np.inf,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    tuning: Optional[float] = None,
    n_chroma: int = 12,
) -> np.ndarray:
    """Chromagram ``[n_chroma, frames]`` from the power spectrogram, as
    ``librosa.feature.chroma_stft``: tuning estimated from the spectrogram unless given, each
    frame scaled to a maximum of 1 (``norm=np.inf``)."""
    require(norm, np.inf, "norm")
    sr = rate(sr)
    S, n_fft = _spectrum(y, S, n_fft, hop_length, win_length, window, center, pad_mode, 2.0)
    if tuning is None:
        return _genre._chroma_stft(S, sr, n_fft, n_chroma)
    raw = _genre._chroma_filters(sr, n_fft, float(tuning), n_chroma) @ S.astype(np.float32, copy=False)
    # librosa.util.normalize(norm=inf): frames whose maximum is below float32's tiny stay as they are.
    peak = np.max(np.abs(raw), axis=0, keepdims=True)
    return raw / np.where(peak < np.finfo(np.float32).tiny, 1, peak)


def spectral_centroid(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    freq: Optional[np.ndarray] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Spectral centroid ``[1, frames]`` in Hz of the magnitude spectrogram, as
    ``librosa.feature.spectral_centroid``."""
    return _spectral("centroid", y, sr, S, n_fft, hop_length, freq, win_length, window, center, pad_mode)


def spectral_bandwidth(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    freq: Optional[np.ndarray] = None,
    centroid: Optional[np.ndarray] = None,
    norm: bool = True,
    p: float = 2,
) -> np.ndarray:
    """Spectral bandwidth ``[1, frames]`` in Hz (order ``p=2`` around the centroid), as
    ``librosa.feature.spectral_bandwidth``."""
    require(centroid, None, "centroid")
    require(norm, True, "norm")
    require(p, 2, "p")
    return _spectral("bandwidth", y, sr, S, n_fft, hop_length, freq, win_length, window, center, pad_mode)


def spectral_rolloff(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    freq: Optional[np.ndarray] = None,
    roll_percent: float = 0.85,
) -> np.ndarray:
    """Roll-off frequency ``[1, frames]``: the lowest bin frequency below which
    ``roll_percent`` of the frame's magnitude lies, as ``librosa.feature.spectral_rolloff``."""
    if not 0.0 < roll_percent < 1.0:
        raise ValueError(f"roll_percent must lie in the range (0, 1), got {roll_percent}")
    return _spectral("rolloff", y, sr, S, n_fft, hop_length, freq, win_length, window, center, pad_mode, roll_percent)


def _spectral(
    kind: str,
    y: Optional[np.ndarray],
    sr: float,
    S: Optional[np.ndarray],
    n_fft: int,
    hop_length: int,
    freq: Optional[np.ndarray],
    win_length: Optional[int],
    window: Any,
    center: bool,
    pad_mode: Any,
    roll_percent: float = 0.85,
) -> np.ndarray:
    require(freq, None, "freq")
    sr = rate(sr)
    S, n_fft = _spectrum(y, S, n_fft, hop_length, win_length, window, center, pad_mode, 1.0)
    _nonnegative(S, f"spectral {kind}")
    # float64 as librosa returns it (its frequencies are float64); genre's sums are float64 too.
    return _genre._spectral(kind, S, sr, n_fft, float(roll_percent)).astype(np.float64)


def rms(
    *,
    y: Optional[np.ndarray] = None,
    S: Optional[np.ndarray] = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    pad_mode: str = "constant",
    dtype: Any = np.float32,
) -> np.ndarray:
    """Root-mean-square energy ``[1, frames]``, as ``librosa.feature.rms``: of centred,
    zero-padded frames of ``y``, or of a magnitude spectrogram ``S`` (Parseval)."""
    if S is not None:
        # librosa's formula for S, in numpy (no framing to speed up).
        S = np.asarray(S)
        if S.ndim != 2 or S.shape[0] != frame_length // 2 + 1:
            raise ValueError(f"S has shape {S.shape}; frame_length={frame_length} needs {frame_length // 2 + 1} bins")
        x = np.abs(S) ** 2
        x[0] *= 0.5
        if frame_length % 2 == 0:
            x[-1] *= 0.5
        return np.sqrt(2 * np.sum(x, axis=0, keepdims=True) / frame_length**2).astype(dtype, copy=False)
    if y is None:
        raise ValueError("either y or S must be given")
    require(center, True, "center")
    require(pad_mode, "constant", "pad_mode")
    return _genre._rms(y, int(frame_length), int(hop_length)).astype(dtype, copy=False)


def zero_crossing_rate(
    y: np.ndarray,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    threshold: Optional[float] = 1e-10,
    ref_magnitude: Any = None,
    pad: bool = False,
    zero_pos: bool = True,
) -> np.ndarray:
    """Zero-crossing rate ``[1, frames]`` of centred frames (edge padding), as
    ``librosa.feature.zero_crossing_rate``: values with ``|y| <= 1e-10`` count as zero."""
    require(center, True, "center")
    require(threshold, 1e-10, "threshold")
    require(ref_magnitude, None, "ref_magnitude")
    require(pad, False, "pad")
    require(zero_pos, True, "zero_pos")
    # float64 as librosa's (a count over frame_length, exact in either type).
    return _genre._zero_crossing_rate(y, int(frame_length), int(hop_length)).astype(np.float64)


def tempo(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    onset_envelope: Optional[np.ndarray] = None,
    tg: Optional[np.ndarray] = None,
    hop_length: int = 512,
    start_bpm: float = 120,
    std_bpm: float = 1.0,
    ac_size: float = 8.0,
    max_tempo: Optional[float] = 320.0,
    aggregate: Optional[Callable[..., Any]] = np.mean,
    prior: Any = None,
) -> np.ndarray:
    """Global tempo in BPM as a 1-element float64 array, as ``librosa.feature.tempo``: the
    onset strength of the log-mel spectrogram, its tempogram averaged over time, weighted by a
    log-normal prior around 120 BPM."""
    if y is None:
        raise unsupported("y", None, "a signal (onset_envelope and tg inputs are not implemented)")
    for name, value, default in [
        ("onset_envelope", onset_envelope, None), ("tg", tg, None), ("start_bpm", start_bpm, 120),
        ("std_bpm", std_bpm, 1.0), ("ac_size", ac_size, 8.0), ("max_tempo", max_tempo, 320.0), ("prior", prior, None),
    ]:  # fmt: skip
        require(value, default, name)
    if aggregate is not np.mean:
        raise unsupported("aggregate", aggregate, "np.mean")
    return np.array([_genre._tempo(y, rate(sr), int(hop_length))])
