"""notebook.py with librosa and with genre: same variables, same values."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")

SOURCE = (Path(__file__).parent / "notebook.py").read_text()


def run(module, clip):
    src = SOURCE.replace("import genre as librosa", f"import {module} as librosa")
    scope = {"__name__": "notebook", "CLIP": str(clip)}
    exec(compile(src, f"notebook.py ({module})", "exec"), scope)
    return scope


def test_notebook_runs_unchanged_on_both(clip):
    ours, theirs = run("genre", clip), run("librosa", clip)
    assert ours["sr"] == theirs["sr"] == 22050
    np.testing.assert_array_equal(ours["y"], theirs["y"])  # WAV: bit-exact
    for name in ["S", "S_db", "mfcc", "mfcc_y", "chroma", "centroid", "D"]:
        a, b = ours[name], theirs[name]
        assert a.shape == b.shape and a.dtype == b.dtype, name
    S, ref = ours["S"], theirs["S"]
    assert np.abs(S - ref).max() <= 1e-5 * ref.max()
    for name in ["S_db", "D"]:  # dB, above the top_db floor (the floor itself checked equal)
        a, b = ours[name], theirs[name]
        assert np.abs(a - b)[b > b.min() + 1e-3].max() <= 0.01 and abs(a.min() - b.min()) <= 0.01, name
    for name in ["mfcc", "mfcc_y"]:
        assert np.abs(ours[name] - theirs[name]).max() <= 0.01, name
    assert np.abs(ours["chroma"] - theirs["chroma"]).max() <= 1e-4
    assert ours["tempo"] == theirs["tempo"]
    s, t = ours["summary"], theirs["summary"]
    assert s["duration"] == t["duration"] and abs(s["centroid_mean"] / t["centroid_mean"] - 1) <= 1e-4
    np.testing.assert_allclose(s["mfcc_means"], t["mfcc_means"], atol=1e-3)
