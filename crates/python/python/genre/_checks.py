"""Argument checks shared by the librosa-style wrappers.

genre implements librosa's defaults (periodic Hann window of n_fft samples, zero padding when
centred, ...). A value it does not implement raises NotImplementedError naming the argument:
a different answer given silently would be worse than no answer.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple

# scipy.signal.get_window's names for the same window.
_HANN = {"hann", "hanning", "han"}


def unsupported(what: str, value: Any, supported: str) -> NotImplementedError:
    return NotImplementedError(f"genre does not implement {what}={value!r} (supported: {supported})")


def rate(sr: Any, name: str = "sr") -> int:
    """A sample rate as the integer genre works with (librosa allows floats; genre whole Hz)."""
    if isinstance(sr, bool) or not isinstance(sr, numbers.Real):
        raise TypeError(f"{name} must be a number of Hz, not {type(sr).__name__}")
    if not sr > 0:
        raise ValueError(f"{name} must be positive, got {sr}")
    if sr != int(sr):
        raise unsupported(name, sr, "a whole number of Hz")
    return int(sr)


def framing(
    n_fft: int,
    hop_length: Optional[int],
    win_length: Optional[int],
    window: Any,
    center: bool,
    pad_mode: Any,
) -> Tuple[int, int, bool]:
    """(n_fft, hop, center) of an STFT, librosa's defaults filled in (hop = n_fft // 4)."""
    if win_length is not None and win_length != n_fft:
        raise unsupported("win_length", win_length, "None or n_fft")
    if not (isinstance(window, str) and window in _HANN):
        raise unsupported("window", window, "'hann'")
    # With center=False nothing is padded, so pad_mode does not matter (as in librosa).
    if center and pad_mode != "constant":
        raise unsupported("pad_mode", pad_mode, "'constant' (zero padding, librosa's default)")
    hop = n_fft // 4 if hop_length is None else hop_length
    return int(n_fft), int(hop), bool(center)


def mel_norm(norm: Any) -> bool:
    """Whether the mel filters are Slaney-normalised (True) or not normalised (False)."""
    if norm is None:
        return False
    if isinstance(norm, str) and norm == "slaney":
        return True
    raise unsupported("norm", norm, "'slaney' or None")


def require(value: Any, default: Any, name: str) -> None:
    """Refuse an argument genre only implements at librosa's default value."""
    if value is default:
        return
    try:
        same = bool(value == default)
    except (TypeError, ValueError):  # an array: no single truth value
        same = False
    if not same:
        raise unsupported(name, value, repr(default))
