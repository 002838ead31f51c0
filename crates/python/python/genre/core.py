"""librosa.core's namesakes: load, stft, istft and the dB conversions.

Everything is computed in float32 (complex64 for the STFT), as librosa does for float32 audio.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np

from . import _genre
from ._checks import framing, rate, unsupported

__all__ = ["load", "stft", "istft", "power_to_db", "amplitude_to_db", "db_to_power", "db_to_amplitude"]

PathLike = Union[str, "os.PathLike[str]"]


def load(
    path: PathLike,
    *,
    sr: Optional[float] = 22050,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
    dtype: Any = np.float32,
    res_type: str = "soxr_hq",
) -> Tuple[np.ndarray, int]:
    """Decode an audio file to a mono float32 signal at ``sr`` Hz, as ``librosa.load``.

    Reads WAV, FLAC, MP3, OGG/Vorbis and M4A/AAC at any rate and channel count; channels are
    averaged, then the signal is resampled to ``sr`` (``None`` keeps the file's rate).
    ``offset`` and ``duration`` are in seconds. Returns ``(y, sr)``.

    genre's resampler stands in for librosa's default ``res_type='soxr_hq'`` (log-mel within
    0.01 dB of soxr's below 9 kHz); other ``res_type`` values and ``mono=False`` raise
    NotImplementedError. Raises :class:`genre.FileError` (an ``OSError``) when the file cannot
    be read and :class:`genre.InputError` (a ``ValueError``) when it is not audio genre decodes.
    """
    if sr is not None and res_type != "soxr_hq":
        raise unsupported("res_type", res_type, "'soxr_hq'")
    y, rate_out = _genre.load(
        os.fspath(path),
        sr=None if sr is None else rate(sr),
        mono=mono,
        offset=float(offset),
        duration=None if duration is None else float(duration),
    )
    return y.astype(dtype, copy=False), rate_out


def stft(
    y: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    dtype: Any = None,
    pad_mode: str = "constant",
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Short-time Fourier transform, as ``librosa.stft``: complex64 ``[1 + n_fft//2, frames]``.

    Periodic Hann window of ``n_fft`` samples, ``hop_length`` default ``n_fft // 4``, frames
    centred with zero padding. ``y`` is a 1-D signal.
    """
    n_fft, hop, center = framing(n_fft, hop_length, win_length, window, center, pad_mode)
    if dtype is not None and np.dtype(dtype) != np.complex64:
        raise unsupported("dtype", dtype, "None or np.complex64")
    if out is not None:
        raise unsupported("out", "<array>", "None")
    return _genre._stft(y, n_fft, hop, center)


def istft(
    stft_matrix: np.ndarray,
    *,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    n_fft: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    dtype: Any = None,
    length: Optional[int] = None,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Inverse STFT, as ``librosa.istft``: windowed overlap-add, float32.

    ``stft_matrix`` is ``[1 + n_fft//2, frames]`` as :func:`stft` returns it; without
    ``length`` the signal has ``hop_length * (frames - 1)`` samples, as librosa's.
    """
    S = np.asarray(stft_matrix, dtype=np.complex64)
    if S.ndim != 2:
        raise ValueError(f"stft_matrix must be 2-D [bins, frames] (got {S.ndim}-D)")
    inferred = 2 * (S.shape[0] - 1)
    if n_fft is not None and n_fft != inferred:
        raise unsupported("n_fft", n_fft, f"None or {inferred} (2 * (bins - 1))")
    _, hop, _ = framing(inferred, hop_length, win_length, window, True, "constant")
    if not center:
        raise unsupported("center", center, "True")
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise unsupported("dtype", dtype, "None or np.float32")
    if out is not None:
        raise unsupported("out", "<array>", "None")
    if length is None:
        length = hop * max(S.shape[1] - 1, 0)
    if length < 0:
        raise ValueError(f"length must be non-negative, got {length}")
    return _genre._istft(S, hop, int(length))


def power_to_db(
    S: Any,
    *,
    ref: Union[float, Callable[[np.ndarray], Any]] = 1.0,
    amin: float = 1e-10,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """Power to decibels, as ``librosa.power_to_db``: ``10 log10(max(S, amin) / ref)``, then
    clipped at ``max - top_db`` (``None``: no clipping). ``ref`` is a value or a function of
    ``S`` such as ``np.max``. Any shape; float32 out.
    """
    S = np.asarray(S)
    if np.iscomplexobj(S):
        warnings.warn(
            "power_to_db was called on complex input so phase information will be discarded. "
            "To suppress this warning, call power_to_db(np.abs(D)**2) instead.",
            stacklevel=2,
        )
        S = np.abs(S)
    ref_value = ref(S) if callable(ref) else ref
    return _genre._power_to_db(S, float(np.abs(ref_value)), float(amin), None if top_db is None else float(top_db))


def amplitude_to_db(
    S: Any,
    *,
    ref: Union[float, Callable[[np.ndarray], Any]] = 1.0,
    amin: float = 1e-5,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """Amplitude to decibels, as ``librosa.amplitude_to_db``: ``power_to_db(|S|**2)`` with
    ``ref**2`` and ``amin**2``.
    """
    magnitude = np.abs(np.asarray(S))
    ref_value = ref(magnitude) if callable(ref) else np.abs(ref)
    return power_to_db(np.square(magnitude), ref=float(ref_value) ** 2, amin=amin**2, top_db=top_db)


def db_to_power(S_db: Any, *, ref: float = 1.0) -> np.ndarray:
    """Decibels to power, as ``librosa.db_to_power``: ``ref * 10 ** (S_db / 10)``."""
    return ref * np.power(10.0, 0.1 * np.asarray(S_db))


def db_to_amplitude(S_db: Any, *, ref: float = 1.0) -> np.ndarray:
    """Decibels to amplitude, as ``librosa.db_to_amplitude``."""
    return db_to_power(S_db, ref=ref**2) ** 0.5
