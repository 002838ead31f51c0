"""Every failure is a Python exception naming its cause, never a crash: FileError (an OSError)
for files that cannot be read, InputError (a ValueError) for input genre cannot use, ValueError
for bad arguments, NotImplementedError for librosa options genre does not implement."""

import numpy as np
import pytest

import genre

MISSING = "/nonexistent/folder/song.wav"


def test_exception_types():
    assert issubclass(genre.FileError, OSError) and issubclass(genre.InputError, ValueError)


@pytest.mark.parametrize(
    "call", [lambda m: genre.load(MISSING), lambda m: m.predict(MISSING), lambda m: genre.tag(MISSING)]
)
def test_missing_file_is_a_file_error_naming_it(call, model):
    with pytest.raises(genre.FileError, match="nonexistent/folder/song.wav") as e:
        call(model)
    assert str(e.value).count("No such file") == 1  # the cause once, not once per error layer


def test_silence_and_tiny_signals_answer_with_a_warning(model):
    assert "warning" in model.predict(np.zeros(100, np.float32), sr=22050)
    assert "warning" in model.predict(np.zeros(3 * 22050, np.float32), sr=22050)


def test_garbage_is_an_input_error(model, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("these are not the samples you are looking for\n" * 50)
    junk = bytes(range(256)) * 40
    for call in [
        lambda: genre.load(text),
        lambda: model.predict(text),
        lambda: model.predict(junk),
        lambda: genre.embed(junk),
    ]:
        with pytest.raises(genre.InputError) as e:
            call()
        assert str(e.value)  # says why
    with pytest.raises(genre.InputError, match="notes.wav"):
        genre.load(text)
    # The temporary file a bytes input goes through is never shown: the input is "<bytes>".
    with pytest.raises(genre.InputError, match="<bytes>"):
        model.predict(junk)


def test_empty_inputs(model):
    with pytest.raises(ValueError):
        model.predict(b"")
    with pytest.raises(ValueError):
        genre.feature.melspectrogram(y=np.zeros(0, np.float32))


def test_bad_signals_are_value_errors(model, short_wav):
    nan = np.zeros(22050, np.float32)
    nan[100] = np.nan
    cube = np.zeros((2, 2, 22050), np.float32)
    calls = [
        lambda: model.predict(nan, sr=22050),
        lambda: genre.feature.melspectrogram(y=nan),
        lambda: genre.feature.mfcc(y=np.full(22050, np.inf, np.float32)),
        lambda: genre.stft(nan),
        lambda: model.predict(cube, sr=22050),
        lambda: genre.stft(cube),
        lambda: genre.feature.rms(y=cube),
        lambda: model.predict(np.zeros(22050, np.float32)),  # a signal without sr
        lambda: model.predict(short_wav, top_k=0),
        lambda: model.explain(short_wav, "polka"),
        lambda: genre.embed(short_wav, layer="fc9"),
        lambda: genre.embed(short_wav, hop=0.0),
        lambda: genre.tag(short_wav, model="imagenet"),
        lambda: genre.stft(np.zeros(4096, np.float32), n_fft=0),
        lambda: genre.power_to_db(np.ones(4), amin=0.0),
        lambda: genre.feature.spectral_rolloff(y=np.zeros(4096, np.float32), roll_percent=1.5),
        lambda: genre.feature.melspectrogram(),
        lambda: genre.filters.mel(sr=-1, n_fft=2048),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError, match="blues"):  # lists the genres it knows
        model.explain(short_wav, "polka")
    with pytest.raises(ValueError, match="expected a path"):
        model.predict({"not": "audio"})


@pytest.mark.parametrize(
    "call",
    [
        lambda y: genre.stft(y, window="hamming"),
        lambda y: genre.stft(y, win_length=1024),
        lambda y: genre.stft(y, pad_mode="reflect"),
        lambda y: genre.feature.melspectrogram(y=y, norm=2.0),
        lambda y: genre.feature.mfcc(y=y, dct_type=3),
        lambda y: genre.feature.chroma_stft(y=y, norm=2),
        lambda y: genre.feature.spectral_bandwidth(y=y, p=3),
        lambda y: genre.feature.rms(y=y, center=False),
        lambda y: genre.feature.zero_crossing_rate(y, threshold=0.0),
        lambda y: genre.feature.tempo(y=y, aggregate=np.median),
        lambda y: genre.feature.tempo(y=y, start_bpm=90),
        lambda y: genre.effects.hpss(y, margin=2.0),
        lambda y: genre.filters.chroma(sr=22050, n_fft=2048, base_c=False),
        lambda y: genre.feature.melspectrogram(y=y, sr=22050.5),
    ],
)
def test_unimplemented_options_say_so(call):
    with pytest.raises(NotImplementedError, match="genre does not implement"):
        call(np.zeros(8192, np.float32))


def test_load_options_not_implemented(clip):
    with pytest.raises(NotImplementedError):
        genre.load(clip, mono=False)
    with pytest.raises(NotImplementedError):
        genre.load(clip, res_type="kaiser_best")


def test_train_names_a_bad_option(tmp_path):
    with pytest.raises(ValueError, match="epoch"):
        genre.train(tmp_path, out=tmp_path / "run", epoch=3)
    with pytest.raises(genre.FileError):
        genre.train(tmp_path / "missing", out=tmp_path / "run", epochs=1)
