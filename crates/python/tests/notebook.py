"""A typical music-analysis notebook. It runs unchanged on librosa and on genre: the only
difference is the first import (test_notebook.py runs it both ways and compares every array).
Run it alone with `python notebook.py CLIP`."""

import sys

import numpy as np

import genre as librosa

path = CLIP if "CLIP" in globals() else sys.argv[1]  # noqa: F821 (the test sets CLIP)

y, sr = librosa.load(path, sr=22050, duration=20.0)
S = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128, fmax=8000)
S_db = librosa.power_to_db(S, ref=np.max)
mfcc = librosa.feature.mfcc(S=librosa.power_to_db(S), n_mfcc=13)
mfcc_y = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
chroma = librosa.feature.chroma_stft(y=y, sr=sr)
centroid = librosa.feature.spectral_centroid(y=y, sr=sr)[0]
tempo = librosa.feature.tempo(y=y, sr=sr)[0]
D = librosa.amplitude_to_db(np.abs(librosa.stft(y, hop_length=256)), ref=np.max)

summary = {
    "duration": len(y) / sr,
    "tempo": float(tempo),
    "centroid_mean": float(np.mean(centroid)),
    "mfcc_means": np.mean(mfcc_y, axis=1),
    "chroma_profile": np.mean(chroma, axis=1),
}
print(f"{summary['duration']:.1f} s, {summary['tempo']:.1f} BPM, centroid {summary['centroid_mean']:.0f} Hz")
