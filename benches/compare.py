#!/usr/bin/env python3
"""genre vs the Python anchors (librosa 0.11, torchaudio 2.11) on the same files, in one run.

Setup once (as root; downloads ~5 GB of torch wheels):
    cp -r ../shared/bench/features /tmp/peers && (cd /tmp/peers && bash setup.sh)
Then, from the repository root:
    cargo build --release && python3 benches/compare.py --peers /tmp/peers

It runs `genre bench` on /tmp/peers/audio (the 30 s clip in 4 formats, the 3 min 44.1 kHz stereo
mp3, 100 clips), then ../shared/bench/features/bench_features.py (librosa and torchaudio, 1 and 2
threads) and gtzan57_librosa.py on the 30 s clip, and prints one table with the ratios.
Machines are noisy: only the ratios within one run mean anything.
"""
import argparse, json, os, statistics, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--peers", default="/tmp/peers", help="copy of ../shared/bench/features after setup.sh")
ap.add_argument("--genre", default="target/release/genre")
ap.add_argument("--min-time", default="1.0")
ap.add_argument("--skip-python", action="store_true", help="reuse the peers' results/*.json from an earlier run")
a = ap.parse_args()
audio = os.path.join(a.peers, "audio")
py = os.path.join(a.peers, ".venv/bin/python")

ours_json = "/tmp/genre_bench.json"
subprocess.run([a.genre, "bench", "--reference", audio, "--decode", os.path.join(audio, "song180_44100_stereo.mp3"),
                "--batch", os.path.join(audio, "batch"), "--min-time", a.min_time, "--json", ours_json], check=True)
ours = json.load(open(ours_json))

if not a.skip_python:
    subprocess.run([py, "bench_features.py", "--no-gate", "--min-time", a.min_time, "--attempts", "1"], cwd=a.peers, check=True)
peers = {}
for g in ("librosa", "torch"):
    for n in (1, 2):
        p = os.path.join(a.peers, "results", f"results_{g}_threads{n}.json")
        if os.path.exists(p):
            r = json.load(open(p))
            for k, v in r.get("timings", {}).items():
                peers.setdefault(k, {})[n] = v
            for k, v in r.get("batch", {}).items():
                peers.setdefault("batch|" + k, {})[n] = v

# librosa's 57 GTZAN features on the 30 s clip: median of 3 runs (timed inside the script).
clip = os.path.join(audio, "clip30_22050_mono.wav")
ms = []
for _ in range(3):
    err = subprocess.run([py, os.path.join(a.peers, "gtzan57_librosa.py"), clip], capture_output=True, text=True).stderr
    ms += [float(l.split(": ")[1].split(" ms")[0]) for l in err.splitlines() if " ms for " in l]

# Shared 2-vCPU machines drift by up to 1.5x within minutes, so both the median and the
# minimum (the least-disturbed run) are shown, each ratio taken statistic to statistic.
def ours_ms(prefix, n, stat="median_s"):
    for k, v in ours.items():
        if k.startswith(prefix) and str(n) in v:
            return v[str(n)][stat] * 1e3
    return None

def peer_ms(prefix, n, stat="median_s"):
    for k, v in peers.items():
        if k.startswith(prefix) and n in v:
            return v[n].get(stat, 0) * 1e3, k
    return None, None

L = "decode|librosa.load(sr=22050, mono, res_type=soxr_hq) "
T = "decode|torchcodec AudioDecoder(sample_rate=22050, num_channels=1) "
rows = [(f"decode {e} 30 s", f"decode {e}", f"{L}30s 22050 mono {e}", f"{T}30s 22050 mono {e}") for e in ("wav", "flac", "mp3", "ogg")]
rows += [
    ("3 min 44.1k stereo mp3 -> 22050 mono", "decode+resample song180_44100_stereo.mp3", f"{L}180s 44100 stereo mp3", f"{T}180s 44100 stereo mp3"),
    ("STFT power", "stft power", "stft|librosa.stft", "stft|torchaudio Spectrogram"),
    ("log-mel 128 + dB", "log-mel 128", "logmel|librosa melspectrogram + power_to_db (slaney)", "logmel|torchaudio MelSpectrogram + AmplitudeToDB (slaney"),
    ("MFCC 20", "mfcc 20", "mfcc|librosa.feature.mfcc n_mfcc=20", "mfcc|torchaudio MFCC n_mfcc=20"),
    ("FFT floor (rfft f32 of 1292 frames; peers: scipy / torch.fft)", "fft floor", "fftfloor|scipy.fft.rfft f32 workers=1", "fftfloor|torch.fft.rfft f32"),
]
print("\n| work | threads | genre ms (median / min) | librosa ms | torchaudio/torchcodec ms | librosa / genre (median / min) | torch / genre |")
print("|---|---|---:|---:|---:|---:|---:|")
f = lambda x: "-" if x is None else f"{x:.2f}"
r = lambda x, g: "-" if (x is None or g is None) else f"{x / g:.2f}x"
for label, o, l, t in rows:
    for n in (1, 2):
        g, gm = ours_ms(o, n), ours_ms(o, n, "min_s")
        (lm, _), (lmin, _) = peer_ms(l, n), peer_ms(l, n, "min_s")
        (tm, _), (tmin, _) = peer_ms(t, n), peer_ms(t, n, "min_s")
        print(f"| {label} | {n} | {f(g)} / {f(gm)} | {f(lm)} / {f(lmin)} | {f(tm)} / {f(tmin)} "
              f"| {r(lm, g)} / {r(lmin, gm)} | {r(tm, g)} / {r(tmin, gm)} |")
g1, g1min = ours_ms("gtzan57", 1), ours_ms("gtzan57", 1, "min_s")
if ms and g1:
    lib, libmin = statistics.median(ms), min(ms)
    print(f"| GTZAN 57 features, 30 s | 1 | {g1:.1f} / {g1min:.1f} | {lib:.1f} / {libmin:.1f} | - "
          f"| {lib / g1:.1f}x / {libmin / g1min:.1f}x | - |")
for k, v in ours.items():
    if k.startswith("batch"):
        print(f"\ngenre {k.split(' (')[0]}: " + ", ".join(
            f"{n}T {t['audio_s'] / t['median_s'] / 30:.1f} clips/s (best run {t['audio_s'] / t['min_s'] / 30:.1f})"
            for n, t in v.items()))
for k, v in peers.items():
    if k.startswith("batch|"):
        print(f"peer {k[6:]}: " + ", ".join(
            f"{n}T {t.get('clips_per_s', 0):.1f} clips/s (best run {t['clips'] / min(t.get('walls_s') or [t['median_s']]):.1f})"
            for n, t in v.items()))
