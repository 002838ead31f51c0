"""Parity with librosa 0.11 on the stored reference outputs (../shared/reference, see its
manifest.json), through the Python API, with the tolerances of the Rust parity tests
(crates/features/tests/parity.rs, crates/audio/tests/decode.rs)."""

import numpy as np
import pytest

import genre
from conftest import REFERENCE, need, read_f32


def errors(ours, theirs, floor_frac):
    """(max |a-b| / max|b|, max relative error over cells with |b| > floor_frac * max|b|)."""
    assert ours.shape == theirs.shape
    assert ours.dtype == np.float32
    d = np.abs(ours.astype(np.float64) - theirs)
    big = np.abs(theirs) > floor_frac * np.abs(theirs).max()
    return d.max() / np.abs(theirs).max(), (d[big] / np.abs(theirs[big])).max()


def db_error(ours, theirs):
    """Max |dB difference| where librosa's value is above its top_db floor, and the gap
    between the two floors (cells at the floor must sit at the same floor)."""
    above = theirs > theirs.min() + 1e-3
    return np.abs(ours - theirs)[above].max(), abs(ours.min() - theirs.min())


def snr_db(x, reference):
    err = np.sum((x.astype(np.float64) - reference) ** 2)
    return 10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / max(err, 1e-30))


@pytest.mark.parametrize("name", ["clip30_22050_mono.wav", "clip30_22050_mono.flac"])
def test_load_lossless_is_bit_exact(name, y):
    ours, sr = genre.load(need(REFERENCE / name))
    assert sr == 22050 and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, y)


@pytest.mark.parametrize(
    "name, reference", [("mp3", "decoded_mp3_libsndfile.f32"), ("ogg", "decoded_ogg_libsndfile.f32")]
)
def test_load_lossy_matches_libsndfile(name, reference):
    ours, sr = genre.load(need(REFERENCE / f"clip30_22050_mono.{name}"), sr=None)
    theirs = read_f32(reference)
    assert sr == 22050 and ours.shape == theirs.shape
    assert snr_db(ours, theirs) >= 60.0


def test_load_offset_and_duration_are_sample_exact(y):
    part, _ = genre.load(REFERENCE / "clip30_22050_mono.wav", sr=None, offset=10.0, duration=2.5)
    np.testing.assert_array_equal(part, y[220500 : 220500 + 55125])


def test_load_resamples_like_soxr_hq():
    """44.1 kHz stereo -> 22050 mono: SNR > 30 dB against soxr HQ, and log-mel within 0.01 dB
    below 9 kHz (bands 0-99), away from the edges, as crates/features/tests/parity.rs."""
    ours, sr = genre.load(need(REFERENCE / "song10_44100_stereo.wav"))
    soxr = read_f32("song10_resampled_22050_soxr_hq.f32")
    assert sr == 22050 and ours.shape == soxr.shape
    assert snr_db(ours, soxr) > 30.0
    a, b = (genre.power_to_db(genre.feature.melspectrogram(y=x)) for x in (ours, soxr))
    assert np.abs(a - b)[:100, 2:-3].max() <= 0.01


def test_stft_power(y):
    D = genre.stft(y)
    assert D.shape == (1025, 1292) and D.dtype == np.complex64
    rel_to_max, rel = errors(np.abs(D) ** 2, read_f32("stft_power.f32"), 1e-6)
    assert rel_to_max <= 1e-5 and rel <= 1e-3


@pytest.mark.parametrize("htk, name", [(False, "mel_fb_slaney.f32"), (True, "mel_fb_htk.f32")])
def test_mel_filters(htk, name):
    ours, theirs = genre.filters.mel(sr=22050, n_fft=2048, htk=htk), read_f32(name)
    rel_to_max, rel = errors(ours, theirs, 1e-3)
    assert rel_to_max <= 1e-6 and rel <= 1e-4
    # Same sparsity: a filter leaking into an extra bin is a real bug.
    assert np.count_nonzero(ours) == np.count_nonzero(theirs)


@pytest.mark.parametrize("htk, name", [(False, "mel_power_slaney.f32"), (True, "mel_power_htk.f32")])
def test_melspectrogram(htk, name, y):
    ours = genre.feature.melspectrogram(y=y, sr=22050, htk=htk)
    rel_to_max, rel = errors(ours, read_f32(name), 1e-6)
    assert rel_to_max <= 1e-5 and rel <= 1e-3


def test_melspectrogram_from_S(y):
    S = np.abs(genre.stft(y)) ** 2
    rel_to_max, rel = errors(genre.feature.melspectrogram(S=S), read_f32("mel_power_slaney.f32"), 1e-6)
    assert rel_to_max <= 1e-5 and rel <= 1e-3


@pytest.mark.parametrize(
    "htk, ref, name",
    [
        (False, 1.0, "logmel_db_ref1_slaney.f32"),
        (False, np.max, "logmel_db_refmax_slaney.f32"),
        (True, 1.0, "logmel_db_ref1_htk.f32"),
    ],
)
def test_power_to_db_log_mel(htk, ref, name, y):
    ours = genre.power_to_db(genre.feature.melspectrogram(y=y, htk=htk), ref=ref)
    err, floor_gap = db_error(ours, read_f32(name))
    assert ours.dtype == np.float32
    assert err <= 0.01 and floor_gap <= 0.01


@pytest.mark.parametrize(
    "n, htk, name", [(20, False, "mfcc20_slaney.f32"), (40, False, "mfcc40_slaney.f32"), (20, True, "mfcc20_htk.f32")]
)
def test_mfcc(n, htk, name, y):
    ours = genre.feature.mfcc(y=y, sr=22050, n_mfcc=n, htk=htk)
    theirs = read_f32(name)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() <= 0.01


def test_mfcc_from_log_mel(y):
    S = read_f32("logmel_db_ref1_slaney.f32")
    assert np.abs(genre.feature.mfcc(S=S, n_mfcc=20) - read_f32("mfcc20_slaney.f32")).max() <= 0.01


def test_any_memory_layout(y):
    """Fortran-ordered, strided and reversed arrays are read in logical order (numpy keeps
    Fortran order through arithmetic: np.abs(stft(y)) ** 2 is one)."""
    P = np.abs(genre.stft(y[:44100])) ** 2
    C = np.ascontiguousarray(P)
    assert P.flags.f_contiguous and not P.flags.c_contiguous
    np.testing.assert_array_equal(genre.power_to_db(P), genre.power_to_db(C))
    np.testing.assert_array_equal(genre.feature.melspectrogram(S=P), genre.feature.melspectrogram(S=C))
    np.testing.assert_array_equal(genre.feature.chroma_stft(S=P), genre.feature.chroma_stft(S=C))
    np.testing.assert_array_equal(
        genre.feature.spectral_centroid(S=np.sqrt(P)), genre.feature.spectral_centroid(S=np.sqrt(C))
    )
    L = genre.power_to_db(genre.feature.melspectrogram(S=C))
    np.testing.assert_array_equal(genre.feature.mfcc(S=np.asfortranarray(L)), genre.feature.mfcc(S=L))
    x = y[:44100]
    np.testing.assert_array_equal(genre.feature.rms(y=x[::-1]), genre.feature.rms(y=x[::-1].copy()))
    np.testing.assert_array_equal(genre.stft(x[::2]), genre.stft(x[::2].copy()))
