"""librosa.beat's tempo (an alias of :func:`genre.feature.tempo`, as in librosa 0.10-0.11)."""

from .feature import tempo

__all__ = ["tempo"]
