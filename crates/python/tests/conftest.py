"""Shared fixtures: the reference folder (../shared/reference, or $GENRE_SHARED/reference), its
arrays, short synthetic WAV files, the release CLI and the default model."""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("GENRE_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference"
GTZAN = SHARED / "data" / "gtzan"
CLI = REPO / "target" / "release" / "genre"


def need(path: Path) -> Path:
    """A file of the shared folder. Missing, the test fails (as the Rust parity tests do):
    skipped parity checks would pass vacuously."""
    if not path.exists():
        pytest.fail(f"{path} is missing (set GENRE_SHARED to the shared folder)", pytrace=False)
    return path


def read_f32(name: str) -> np.ndarray:
    """A reference array, shaped as manifest.json says."""
    manifest = json.loads(need(REFERENCE / "manifest.json").read_text())
    shape = next(f["shape"] for f in manifest["files"].values() if f["f32"] == name)
    return np.fromfile(need(REFERENCE / name), dtype="<f4").reshape(shape)


@pytest.fixture(scope="session")
def y() -> np.ndarray:
    """librosa.load(clip30_22050_mono.wav): 30 s of real music at 22050 Hz."""
    return read_f32("y.f32")


@pytest.fixture(scope="session")
def clip() -> Path:
    return need(REFERENCE / "clip30_22050_mono.wav")


def tone_mix(secs: float, sr: int = 22050, seed: int = 0, f0: float = 220.0) -> np.ndarray:
    """A few seconds of music-like audio: a harmonic tone with a pulse of noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(secs * sr)) / sr
    y = sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 5))
    beat = (t * 2.0) % 1.0 < 0.05  # 120 BPM
    y = y + 0.3 * beat * rng.standard_normal(t.size)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def write_wav(path: Path, y: np.ndarray, sr: int = 22050) -> Path:
    """16-bit mono WAV with the standard library (what genre and librosa both read exactly)."""
    pcm = np.clip(np.round(y * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="session")
def short_wav(tmp_path_factory) -> Path:
    """7 s of synthetic audio: a few musicnn windows, fast to predict."""
    return write_wav(tmp_path_factory.mktemp("audio") / "short.wav", tone_mix(7.0))


@pytest.fixture(scope="session")
def model():
    import genre

    return genre.Model.default()


def run_cli(*args: str) -> str:
    """stdout of the release CLI, or a skip saying how to build it."""
    if not CLI.exists():
        pytest.skip(f"{CLI} is missing: run `cargo build --release` to compare with the CLI")
    return subprocess.run([str(CLI), *args], check=True, capture_output=True, text=True).stdout
