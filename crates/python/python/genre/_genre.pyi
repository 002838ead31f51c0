"""Types of the compiled module (crates/python/src). The `_`-prefixed functions are the
positional, librosa-free layer under genre.core/feature/filters/effects; use those instead."""

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__version__: str

class FileError(OSError):
    """A file genre could not open or read (missing, unreadable, not a regular file)."""

class InputError(ValueError):
    """Input genre cannot use: undecodable audio, a bad model, data or parameter."""

# A path, the bytes of an audio file, or a signal (1-D, or [channels, samples]) with sr=.
Audio = Union[str, "os.PathLike[str]", bytes, bytearray, np.ndarray, Sequence[float]]
Progress = Callable[[Dict[str, Any]], Any]

def load(
    path: Union[str, "os.PathLike[str]"],
    *,
    sr: Optional[int] = 22050,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
) -> Tuple[np.ndarray, int]: ...
def _stft(y: Any, n_fft: int, hop: int, center: bool) -> np.ndarray: ...
def _istft(s: np.ndarray, hop: int, length: int) -> np.ndarray: ...
def _power_to_db(s: Any, ref_value: float, amin: float, top_db: Optional[float]) -> np.ndarray: ...
def _mel_filters(
    sr: int, n_fft: int, n_mels: int, fmin: float, fmax: Optional[float], htk: bool, slaney: bool
) -> np.ndarray: ...
def _chroma_filters(sr: int, n_fft: int, tuning: float, n_chroma: int) -> np.ndarray: ...
def _spectrogram(y: Any, n_fft: int, hop: int, center: bool, power: float) -> np.ndarray: ...
def _melspectrogram(
    y: Any,
    sr: int,
    n_fft: int,
    hop: int,
    center: bool,
    power: float,
    n_mels: int,
    fmin: float,
    fmax: Optional[float],
    htk: bool,
    slaney: bool,
) -> np.ndarray: ...
def _mfcc(
    y: Any,
    sr: int,
    n_mfcc: int,
    n_fft: int,
    hop: int,
    center: bool,
    n_mels: int,
    fmin: float,
    fmax: Optional[float],
    htk: bool,
) -> np.ndarray: ...
def _mfcc_from_logmel(s: Any, n_mfcc: int) -> np.ndarray: ...
def _chroma_stft(power: Any, sr: int, n_fft: int, n_chroma: int) -> np.ndarray: ...
def _spectral(kind: str, mag: Any, sr: int, n_fft: int, roll_percent: float) -> np.ndarray: ...
def _rms(y: Any, frame_length: int, hop: int) -> np.ndarray: ...
def _zero_crossing_rate(y: Any, frame_length: int, hop: int) -> np.ndarray: ...
def _hpss(y: Any) -> Tuple[np.ndarray, np.ndarray]: ...
def _tempo(y: Any, sr: int, hop: int) -> float: ...
def gtzan57(y: Any, sr: int = 22050) -> np.ndarray:
    """The 57 GTZAN features of a clip (float64, in ``gtzan57_names()`` order): mean and
    variance of chroma, RMS, spectral centroid/bandwidth/roll-off, zero-crossing rate, HPSS
    parts and 20 MFCCs, and the tempo, as Kaggle's ``features_30_sec.csv`` computes them."""

def gtzan57_names() -> List[str]:
    """Names of the 57 GTZAN features, in :func:`gtzan57`'s order."""

class Model:
    """A genre model loaded once: ``Model.default()`` (built in) or ``Model.load(run_dir)``.
    Thread-safe: several Python threads may predict at once (the GIL is released meanwhile)."""

    @staticmethod
    def default() -> "Model":
        """The default model built into genre (no file needed)."""

    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"]) -> "Model":
        """A trained run folder (``genre train --out RUN``), its ``model.json``, or an ensemble folder."""

    @property
    def classes(self) -> List[str]:
        """The genres the model tells apart, in the order of its probabilities."""

    @property
    def multi_label(self) -> bool:
        """Whether the model tags (several labels a file) rather than naming one genre."""

    def predict(
        self,
        x: Audio,
        *,
        sr: Optional[int] = None,
        top_k: int = 3,
        segments: bool = True,
        max_windows: Optional[int] = 8,
    ) -> Dict[str, Any]:
        """The genre of ``x``: a dict shaped like ``genre predict --json``'s entry: ``file``,
        ``genre``, ``top`` ([genre, probability] pairs), ``probabilities`` (one per class),
        ``segments`` (per-window ``start``, ``end``, ``genre``, ``probabilities``),
        ``warning`` when the answer deserves little trust (silence, too short), and for models
        on musicnn-MSD (the default) ``outside`` (the music sounds like none of the model's
        genres), ``genre_tags`` (the strongest musicnn-MSD genre tags, [tag, probability]
        pairs) and, when outside, ``outside_tags`` (the closest tags naming none of them).
        Probabilities are calibrated (temperature scaling fitted on held-out tracks)."""

    def explain(
        self,
        x: Audio,
        genre: Optional[str] = None,
        *,
        sr: Optional[int] = None,
        max_windows: int = 64,
    ) -> Dict[str, Any]:
        """Grad-CAM of ``genre`` (default: the predicted one) over ``x``, in seconds: a dict
        with ``class``, ``classes``, ``top``, ``probabilities``, ``duration``, ``segments`` and
        ``cam`` (``seconds``: evidence per second 0..1; ``grid``: a float32 ``[rows, cols]``
        array, row 0 the lowest band, ``cells_per_second`` columns a second)."""

def tag(
    x: Audio,
    *,
    model: str = "msd",
    sr: Optional[int] = None,
    top_k: int = 5,
    segments: bool = True,
) -> Dict[str, Any]:
    """musicnn's tags of ``x`` (``model``: "msd", 50 Last.fm tags, or "mtt", MagnaTagATune's):
    ``top``, ``probabilities`` (50, the mean over 3 s windows), ``segments``, ``labels``."""

def embed(
    x: Audio,
    *,
    layer: str = "penultimate",
    per_track: bool = False,
    model: str = "msd",
    sr: Optional[int] = None,
    hop: Optional[float] = None,
) -> np.ndarray:
    """musicnn embeddings of ``x``: float32 ``[windows, dim]`` (one row per 3 s window,
    ``hop`` seconds apart), or ``[dim]`` with ``per_track=True``. ``layer``: "penultimate"
    (200), "pooled" (1506) or "taggram" (50)."""

def train(
    data: Union[str, "os.PathLike[str]"],
    *,
    out: Union[str, "os.PathLike[str]"],
    model: str = "musicnn",
    progress: Optional[Progress] = None,
    **options: Any,
) -> Dict[str, Any]:
    """Train a model on ``data`` (a genre folder, manifest CSV or feature table) into ``out``.
    ``model``: cnn, resnet, lstm, crnn, features or musicnn; options are ``genre train``'s
    flags as keywords (``epochs=20``, ``lists=[train, valid]``, ``backbone="mtt"``,
    ``cache=...``). ``progress`` is called with a dict per event (``kind``: features, skipped,
    note, resumed, batch, epoch). Returns the run: ``dir``, ``card``, ``best_epoch``,
    ``epochs``, ``reports``, ``skipped``."""

def evaluate(
    model: Union[str, "os.PathLike[str]"],
    data: Union[str, "os.PathLike[str]"],
    *,
    part: str = "valid",
    progress: Optional[Progress] = None,
    **options: Any,
) -> Dict[str, Any]:
    """Score a trained run on ``data`` (``part``: the run's "valid" or "test" side, or "all"):
    ``report`` (segment and track scores, per genre, confusion), ``skipped``, ``dir``."""
