"""librosa.filters' namesakes: the mel and chroma filter banks (float32)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _genre
from ._checks import mel_norm, rate, require

__all__ = ["mel", "chroma"]


def mel(
    *,
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Optional[str] = "slaney",
    dtype: Any = np.float32,
) -> np.ndarray:
    """Mel filter bank ``[n_mels, 1 + n_fft//2]``, as ``librosa.filters.mel``: triangular
    filters between ``fmin`` and ``fmax`` (default ``sr / 2``) on the Slaney (default) or HTK
    mel scale, Slaney area normalisation (``norm='slaney'``) or none (``norm=None``)."""
    fb = _genre._mel_filters(
        rate(sr), int(n_fft), int(n_mels), float(fmin), None if fmax is None else float(fmax), bool(htk), mel_norm(norm)
    )
    return fb.astype(dtype, copy=False)


def chroma(
    *,
    sr: float,
    n_fft: int,
    n_chroma: int = 12,
    tuning: float = 0.0,
    ctroct: float = 5.0,
    octwidth: Optional[float] = 2,
    norm: Optional[float] = 2,
    base_c: bool = True,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Chroma filter bank ``[n_chroma, 1 + n_fft//2]``, as ``librosa.filters.chroma`` with
    its defaults (Gaussian octave weighting centred on octave 5, 2 octaves wide, L2 norm,
    starting at C); ``tuning`` in fractions of a chroma bin."""
    require(ctroct, 5.0, "ctroct")
    require(octwidth, 2, "octwidth")
    require(norm, 2, "norm")
    require(base_c, True, "base_c")
    return _genre._chroma_filters(rate(sr), int(n_fft), float(tuning), int(n_chroma)).astype(dtype, copy=False)
