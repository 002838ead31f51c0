"""The functions with no stored reference, against librosa 0.11.0 itself on the reference clip.

Tolerances: both compute in float32 with different FFTs and summation orders, so results differ
by float32 rounding (a relative 1e-7 per operation, some hundreds of operations deep); each
tolerance is about 5-10x the error measured on this clip, far below what a real difference
(another tuning estimate, window, padding or filter) produces. crates/features/tests/
gtzan_table.rs judges the same features at 1% against the published table of an older librosa;
here they meet the same librosa far tighter.
"""

import functools
from pathlib import Path

import numpy as np
import pytest

import genre
from conftest import GTZAN, REPO, need, read_f32

librosa = pytest.importorskip("librosa")


@functools.lru_cache(maxsize=None)
def theirs(name):
    """librosa's result on the reference clip, computed once per session."""
    y = read_f32("y.f32")
    if name in ("hpss", "zero_crossing_rate"):
        return getattr(librosa.effects if name == "hpss" else librosa.feature, name)(y)
    if name == "rms":
        return librosa.feature.rms(y=y)
    return getattr(librosa.feature, name)(y=y, sr=22050)


def rel(a, b):
    """Max |a-b| relative to max |b|."""
    assert a.shape == b.shape
    return np.abs(a.astype(np.float64) - b).max() / np.abs(b).max()


def test_chroma_stft(y):
    ours, ref = genre.feature.chroma_stft(y=y, sr=22050), theirs("chroma_stft")
    assert ours.shape == ref.shape == (12, 1292) and ours.dtype == np.float32
    # Same tuning estimate (a different one would shift every filter: errors of ~0.1).
    assert rel(ours, ref) <= 1e-5  # measured 2.3e-6


def test_chroma_stft_given_tuning_and_S(y):
    S = np.abs(genre.stft(y)) ** 2
    ours = genre.feature.chroma_stft(S=S, tuning=0.1)
    ref = librosa.feature.chroma_stft(S=np.abs(librosa.stft(y)) ** 2, tuning=0.1)
    assert rel(ours, ref) <= 1e-5  # measured 1.3e-6
    np.testing.assert_allclose(
        genre.filters.chroma(sr=22050, n_fft=2048), librosa.filters.chroma(sr=22050, n_fft=2048), atol=1e-6
    )


@pytest.mark.parametrize("name", ["spectral_centroid", "spectral_bandwidth", "spectral_rolloff"])
def test_spectral_statistics(name, y):
    ours, ref = getattr(genre.feature, name)(y=y, sr=22050), theirs(name)
    assert ours.shape == ref.shape == (1, 1292) and ours.dtype == ref.dtype == np.float64
    if name == "spectral_rolloff":
        # A threshold crossing on a float32 cumulative sum: rounding may move it one bin
        # (measured: identical).
        assert np.abs(ours - ref).max() <= 22050 / 2048
    else:
        # Hz, per frame (measured 2.8e-4 Hz for the centroid; 5.4e-3 Hz for the bandwidth, which
        # weighs the float32 rounding of faint high bins by their squared distance).
        assert np.abs(ours - ref).max() <= 0.05
    assert abs(ours.mean() / ref.mean() - 1) <= 1e-6 and abs(ours.var() / ref.var() - 1) <= 1e-5


def test_rms_and_zero_crossing_rate(y):
    assert rel(genre.feature.rms(y=y), theirs("rms")) <= 1e-6  # measured 6e-8
    # From a magnitude spectrogram: the same formula as librosa's, in numpy.
    S = np.abs(genre.stft(y))
    assert rel(genre.feature.rms(S=S), librosa.feature.rms(S=S)) <= 1e-6
    # Crossings are counted: identical integers / frame_length.
    np.testing.assert_array_equal(genre.feature.zero_crossing_rate(y), theirs("zero_crossing_rate"))


def test_hpss(y):
    h, p = genre.effects.hpss(y)
    H, P = theirs("hpss")
    assert h.shape == p.shape == y.shape and h.dtype == np.float32
    # Median filters pick the same cells; what differs is float32 rounding of the masks and the
    # inverse FFT, small against the signal (the clip peaks at 0.89; measured 2.4e-7).
    assert np.abs(h - H).max() <= 1e-5 and np.abs(p - P).max() <= 1e-5


def test_tempo(y):
    for ours in (genre.feature.tempo(y=y, sr=22050), genre.beat.tempo(y=y, sr=22050)):
        ref = theirs("tempo")
        assert ours.shape == ref.shape == (1,)
        # The same tempogram bin: tempo is one of a discrete set of BPM values.
        assert abs(ours[0] - ref[0]) < 1e-6


def test_istft_round_trip(y):
    D = genre.stft(y)
    back = genre.istft(D, length=len(y))
    assert back.dtype == np.float32 and np.abs(back - y).max() <= 1e-5
    # Without length: hop * (frames - 1) samples, as librosa.
    assert genre.istft(genre.stft(y[:22050])).shape == librosa.istft(librosa.stft(y[:22050])).shape
    assert np.abs(genre.istft(D) - librosa.istft(D)).max() <= 1e-5


def test_db_conversions(y):
    S = np.abs(genre.stft(y[:22050]))
    for ref in (1.0, np.max):
        a, b = genre.amplitude_to_db(S, ref=ref), librosa.amplitude_to_db(S, ref=ref)
        assert np.abs(a - b).max() <= 1e-4  # dB; measured 7.6e-6
    np.testing.assert_allclose(genre.db_to_power(a), librosa.db_to_power(a), rtol=1e-6)
    np.testing.assert_allclose(genre.db_to_amplitude(a), librosa.db_to_amplitude(a), rtol=1e-6)


def test_melspectrogram_and_mfcc_options(y):
    """The Python-side paths: magnitude mel, no mel norm, liftering."""
    x = y[: 5 * 22050]
    ours = genre.feature.melspectrogram(y=x, power=1.0, norm=None, n_mels=64, fmax=8000)
    assert rel(ours, librosa.feature.melspectrogram(y=x, power=1.0, norm=None, n_mels=64, fmax=8000)) <= 1e-5
    a = genre.feature.mfcc(y=x, n_mfcc=13, lifter=22, mel_norm=None)
    b = librosa.feature.mfcc(y=x, n_mfcc=13, lifter=22, mel_norm=None)
    assert np.abs(a - b).max() <= 0.01  # the MFCC tolerance of parity.rs (measured 1.8e-3)


def read_table(path):
    lines = Path(path).read_text().splitlines()
    header = lines[0].split(",")
    return {l.split(",")[0]: dict(zip(header, l.split(","))) for l in lines[1:] if l}


def test_gtzan57_matches_librosa_011():
    """Three GTZAN clips against librosa 0.11's 57 features (crates/features/tests/data), with
    crates/features/tests/gtzan_table.rs's targets: 1% relative, 1e-3 absolute for the HPSS
    means (near 0), tempo exactly."""
    table = read_table(REPO / "crates/features/tests/data/gtzan57_librosa011.csv")
    names = genre.gtzan57_names()
    assert len(names) == 57
    for stem in ["blues.00000", "classical.00000", "metal.00000"]:
        y, sr = genre.load(need(GTZAN / "audio" / stem.split(".")[0] / f"{stem}.flac"))
        ours, row = genre.gtzan57(y, sr), table[f"{stem}.flac"]
        assert ours.dtype == np.float64 and ours.shape == (57,)
        for name, v in zip(names, ours):
            t = float(row[name])
            if name in ("harmony_mean", "perceptr_mean"):
                assert abs(v - t) <= 1e-3, (stem, name, v, t)
            elif name == "tempo":
                assert abs(v - t) < 1e-3, (stem, name, v, t)
            else:
                assert abs(v - t) <= 0.01 * abs(t), (stem, name, v, t)
