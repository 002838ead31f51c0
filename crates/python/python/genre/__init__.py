"""genre: music genre classification with fast, librosa-compatible audio features.

A drop-in for the librosa calls of a typical music notebook (``import genre as librosa``
works for the functions below; same names, arguments, defaults, shapes, float32 results),
computed by genre's Rust library with the GIL released:

- ``load``, ``stft``, ``istft``, ``power_to_db``, ``amplitude_to_db``, ``db_to_power``,
  ``db_to_amplitude``
- ``feature``: ``melspectrogram``, ``mfcc``, ``chroma_stft``, ``spectral_centroid``,
  ``spectral_bandwidth``, ``spectral_rolloff``, ``rms``, ``zero_crossing_rate``, ``tempo``
- ``filters``: ``mel``, ``chroma``; ``effects``: ``hpss``; ``beat``: ``tempo``

Parameter values genre does not implement raise NotImplementedError rather than answering
differently. Beyond librosa: ``gtzan57`` (the 57 GTZAN features of a clip), ``Model``
(genre prediction and Grad-CAM explanations), ``tag`` and ``embed`` (pre-trained musicnn),
``train`` and ``evaluate``. Errors are :class:`FileError` (an ``OSError``: a file could not
be read) and :class:`InputError` (a ``ValueError``: input genre cannot use).
"""

from . import beat, effects, feature, filters
from ._genre import FileError, InputError, Model, __version__, embed, evaluate, gtzan57, gtzan57_names, tag, train
from .core import amplitude_to_db, db_to_amplitude, db_to_power, istft, load, power_to_db, stft

__all__ = [
    "FileError",
    "InputError",
    "Model",
    "__version__",
    "amplitude_to_db",
    "beat",
    "db_to_amplitude",
    "db_to_power",
    "effects",
    "embed",
    "evaluate",
    "feature",
    "filters",
    "gtzan57",
    "gtzan57_names",
    "istft",
    "load",
    "power_to_db",
    "stft",
    "tag",
    "train",
]
