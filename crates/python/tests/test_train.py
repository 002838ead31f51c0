"""Training from Python on a tiny synthetic genre folder: the run comes back with its card and
scores, progress events reach the callback, and the trained model predicts and evaluates."""

import numpy as np

import genre
from conftest import tone_mix, write_wav

CLASSES = {"low": 110.0, "mid": 330.0, "high": 990.0}


def genre_folder(root):
    """3 genres x 6 clips of 4 s: tones at a class's pitch, each clip a little detuned."""
    for c, f0 in CLASSES.items():
        (root / c).mkdir(parents=True)
        for i in range(6):
            write_wav(root / c / f"{c}{i}.wav", tone_mix(4.0, seed=i, f0=f0 * (1 + 0.02 * i)))
    return root


def test_train_musicnn_head_then_predict_and_evaluate(tmp_path):
    data = genre_folder(tmp_path / "music")
    events = []
    run = genre.train(
        data, out=tmp_path / "run", model="musicnn", epochs=3, cache=tmp_path / "cache", progress=events.append
    )
    assert set(run) >= {"dir", "card", "best_epoch", "epochs", "reports", "skipped"}
    assert run["card"]["classes"] == sorted(CLASSES) and run["skipped"] == []
    assert 1 <= run["best_epoch"] <= run["epochs"] <= 3 and run["reports"]
    kinds = {e["kind"] for e in events}
    assert {"features", "epoch"} <= kinds, kinds
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert len(epochs) == run["epochs"]
    m = genre.Model.load(run["dir"])
    assert m.classes == sorted(CLASSES)
    p = m.predict(data / "high" / "high0.wav")
    assert p["genre"] in CLASSES and abs(sum(p["probabilities"]) - 1) < 1e-4
    ev = genre.evaluate(run["dir"], data, part="all", cache=tmp_path / "cache", out=tmp_path / "eval")
    assert "report" in ev and ev["skipped"] == []


def test_a_failing_callback_does_not_stop_training(tmp_path):
    data = genre_folder(tmp_path / "music")

    def broken(event):
        raise RuntimeError("callback bug")

    run = genre.train(data, out=tmp_path / "run", model="musicnn", epochs=1, cache=tmp_path / "cache", progress=broken)
    assert run["epochs"] == 1
    assert np.isfinite(run["best_epoch"])
