#!/usr/bin/env python3
"""The notebook loop from Python: load + log-mel + MFCC over 100 clips of 30 s, with librosa
and with genre (`import genre as librosa`), in one run; prints both times and the ratio.

Setup (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install maturin numpy librosa==0.11.0
    (cd crates/python && ../../.venv/bin/maturin develop --release)
    .venv/bin/python benches/python_loop.py

Clips: the 101 GTZAN clips of ../shared/data/gtzan/audio (FLAC, 22050 Hz mono), the first
--clips of them; without that folder, synthetic 30 s WAV files in a temporary folder. genre is
timed with its default threads (all cores) and with one (RAYON_NUM_THREADS=1, in a child
process, since the thread pool starts once per process); librosa runs on one core either way.
Machines are noisy: only ratios within one run mean anything.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GTZAN = Path(os.environ.get("GENRE_SHARED", REPO.parent / "shared")) / "data" / "gtzan" / "audio"


def synthetic_clips(folder: Path, n: int) -> list:
    """n clips of 30 s at 22050 Hz: tones and noise bursts, different in each clip."""
    sr, rng = 22050, np.random.default_rng(0)
    t = np.arange(30 * sr) / sr
    paths = []
    for i in range(n):
        y = sum(0.2 / k * np.sin(2 * np.pi * (110 + 7 * i) * k * t) for k in range(1, 6))
        y = y + 0.2 * ((t * (1.5 + i / 50)) % 1 < 0.05) * rng.standard_normal(t.size)
        p = folder / f"clip{i:03}.wav"
        with wave.open(str(p), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
        paths.append(p)
    return paths


def loop(librosa, paths):
    """What a feature notebook does per clip; returns the seconds taken and the last MFCC."""
    start = time.perf_counter()
    for p in paths:
        y, sr = librosa.load(p, sr=22050)
        log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128))
        mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    return time.perf_counter() - start, log_mel, mfcc


def timed(name, paths):
    lib = __import__(name)
    loop(lib, paths[:1])  # warm-up: imports, filter caches, JIT
    return loop(lib, paths)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--only-genre", action="store_true", help=argparse.SUPPRESS)  # the 1-thread child
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.only_genre:
        print(timed("genre", [Path(f) for f in a.files])[0])
        return
    with tempfile.TemporaryDirectory() as tmp:
        paths = sorted(GTZAN.glob("*/*.flac"))[: a.clips] if GTZAN.is_dir() else []
        source = f"GTZAN clips from {GTZAN}"
        if len(paths) < a.clips:
            paths, source = synthetic_clips(Path(tmp), a.clips), "synthetic 30 s WAV clips"
        print(f"{len(paths)} {source}: load + log-mel (128) + MFCC (20) per clip")
        t_librosa, lm_l, mf_l = timed("librosa", paths)
        t_genre, lm_g, mf_g = timed("genre", paths)
        env = dict(os.environ, RAYON_NUM_THREADS="1")
        child = [sys.executable, __file__, "--only-genre", *map(str, paths)]
        t_genre1 = float(subprocess.run(child, env=env, check=True, capture_output=True, text=True).stdout)
    above = lm_l > lm_l.min() + 1e-3
    print(f"same answers (last clip): log-mel max |dB diff| {np.abs(lm_g - lm_l)[above].max():.1e}, "
          f"MFCC max |diff| {np.abs(mf_g - mf_l).max():.1e}")  # fmt: skip
    print(f"librosa {librosa_version()}:            {t_librosa:7.2f} s")
    print(f"genre, {os.cpu_count()} threads (default): {t_genre:7.2f} s   {t_librosa / t_genre:5.1f}x faster")
    print(f"genre, 1 thread:             {t_genre1:7.2f} s   {t_librosa / t_genre1:5.1f}x faster")


def librosa_version():
    import librosa

    return librosa.__version__


if __name__ == "__main__":
    main()
