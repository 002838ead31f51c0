"""librosa.effects' namesakes: harmonic-percussive separation of a signal."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import _genre
from ._checks import framing, require

__all__ = ["hpss", "harmonic", "percussive"]


def hpss(
    y: np.ndarray,
    *,
    kernel_size: Any = 31,
    power: float = 2.0,
    mask: bool = False,
    margin: Any = 1.0,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> Tuple[np.ndarray, np.ndarray]:
    """Harmonic and percussive parts of ``y`` (each as long as ``y``), as
    ``librosa.effects.hpss``: median filtering of the STFT (31 frames across time for the
    harmonic part, 31 bins across frequency for the percussive one), soft masks, inverse STFT.
    genre implements librosa's defaults only."""
    require(kernel_size, 31, "kernel_size")
    require(power, 2.0, "power")
    require(mask, False, "mask")
    require(margin, 1.0, "margin")
    n_fft, hop, center = framing(n_fft, hop_length, win_length, window, center, pad_mode)
    require(n_fft, 2048, "n_fft")
    require(hop, 512, "hop_length")
    require(center, True, "center")
    return _genre._hpss(y)


def harmonic(y: np.ndarray) -> np.ndarray:
    """The harmonic part of ``y``, as ``librosa.effects.harmonic`` (defaults only)."""
    return hpss(y)[0]


def percussive(y: np.ndarray) -> np.ndarray:
    """The percussive part of ``y``, as ``librosa.effects.percussive`` (defaults only)."""
    return hpss(y)[1]
