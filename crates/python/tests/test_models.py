"""Models from Python: one answer whatever form the audio takes (path, bytes, signal), and the
same answer as the CLI (crates/pipeline builds both from one Answer type)."""

import json

import numpy as np
import pytest

import genre
from conftest import REFERENCE, need, run_cli


def same_answer(a, b, atol=1e-6):
    assert a["genre"] == b["genre"]
    assert [g for g, _ in a["top"]] == [g for g, _ in b["top"]]
    np.testing.assert_allclose(a["probabilities"], b["probabilities"], atol=atol)
    assert len(a.get("segments", [])) == len(b.get("segments", []))
    for s, t in zip(a.get("segments", []), b.get("segments", [])):
        assert (s["start"], s["end"], s["genre"]) == (t["start"], t["end"], t["genre"])
        np.testing.assert_allclose(s["probabilities"], t["probabilities"], atol=atol)
    # The default (on musicnn-MSD) judges "outside the genres" and names genre tags, alike.
    assert a.get("outside") == b.get("outside") and a.get("outside") is not None
    assert [t for t, _ in a["genre_tags"]] == [t for t, _ in b["genre_tags"]] and len(a["genre_tags"]) == 5
    assert a.get("outside_tags", []) == b.get("outside_tags", [])


@pytest.fixture(scope="module")
def on_clip(model, clip):
    return model.predict(clip)


def test_predict_path_bytes_and_signal_agree(model, clip, on_clip):
    a = on_clip
    assert a["file"] == str(clip) and a["genre"] in model.classes
    assert len(a["probabilities"]) == len(model.classes) and abs(sum(a["probabilities"]) - 1) < 1e-4
    assert len(a["top"]) == 3 and a["segments"][0]["start"] == 0.0
    b = model.predict(clip.read_bytes())
    y, sr = genre.load(clip, sr=None)
    c = model.predict(y, sr=sr)
    assert (b["file"], c["file"]) == ("<bytes>", "<signal>")
    same_answer(a, b)
    same_answer(a, c)
    # float64 and [channels, samples] signals are converted (mean over channels, as librosa).
    same_answer(a, model.predict(np.stack([y, y]).astype(np.float64), sr=sr))


def test_signal_layout_does_not_matter(model, short_wav):
    y, sr = genre.load(short_wav)
    same_answer(model.predict(y[::-1], sr=sr), model.predict(y[::-1].copy(), sr=sr))


def test_predict_mp3_bytes_are_probed_by_content(model):
    mp3 = need(REFERENCE / "clip30_22050_mono.mp3")
    same_answer(model.predict(mp3, segments=False, top_k=1), model.predict(mp3.read_bytes(), segments=False, top_k=1))


def test_predict_matches_the_cli(clip, on_clip):
    doc = json.loads(run_cli("predict", str(clip), "--json", "--segments", "--quiet"))
    assert doc["failures"] == []
    cli = doc["predictions"][0]
    assert cli["file"] == on_clip["file"]
    same_answer(on_clip, cli)


def test_tag_matches_the_cli(clip):
    ours = genre.tag(clip)
    assert len(ours["labels"]) == 50 and len(ours["probabilities"]) == 50 and len(ours["top"]) == 5
    y, sr = genre.load(clip, sr=None)
    sig = genre.tag(y, sr=sr)
    np.testing.assert_allclose(sig["probabilities"], ours["probabilities"], atol=1e-6)
    cli = json.loads(run_cli("tag", str(clip), "--json", "--segments", "--quiet"))
    assert cli["tags"] == ours["labels"]
    (f,) = cli["files"]
    np.testing.assert_allclose(f["probabilities"], ours["probabilities"], atol=1e-6)
    assert [t for t, _ in f["top"]] == [t for t, _ in ours["top"]]
    assert len(f["segments"]) == len(ours["segments"])


def test_embed_matches_the_cli(clip, tmp_path):
    rows = genre.embed(clip)
    assert rows.dtype == np.float32 and rows.ndim == 2 and rows.shape[1] == 200
    track = genre.embed(clip, per_track=True)
    np.testing.assert_allclose(track, rows.mean(axis=0), atol=1e-5)
    assert genre.embed(clip, layer="taggram").shape == (rows.shape[0], 50)
    y, sr = genre.load(clip, sr=None)
    np.testing.assert_allclose(genre.embed(y, sr=sr), rows, atol=1e-6)
    out = tmp_path / "emb.npy"
    run_cli("embed", str(clip), "--out", str(out), "--quiet")
    np.testing.assert_allclose(np.load(out), rows, atol=1e-6)


def test_explain_returns_a_grid_in_seconds(model, short_wav):
    e = model.explain(short_wav)
    cam = e["cam"]
    grid = cam["grid"]
    assert isinstance(grid, np.ndarray) and grid.dtype == np.float32
    assert grid.shape == (cam["rows"], cam["cols"])
    assert e["class"] in model.classes and len(e["probabilities"]) == len(model.classes)
    # cells_per_second columns a second, over the file's duration; evidence within 0..1.
    assert abs(grid.shape[1] / cam["cells_per_second"] - e["duration"]) <= 1.0
    assert len(cam["seconds"]) >= int(e["duration"])
    assert 0.0 <= min(cam["seconds"]) and max(cam["seconds"]) <= 1.0 + 1e-6
    other = next(c for c in model.classes if c != e["class"])
    assert model.explain(short_wav, other)["class"] == other


def test_model_attributes(model):
    assert len(model.classes) >= 2 and not model.multi_label
    assert "genre.Model" in repr(model)
