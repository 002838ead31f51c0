"""`genre predict` of one long song, end to end, against `librosa.load` of the same file (issue #17.2).

genre: process start to answer (`genre predict SONG`, default model), on one core (`taskset -c
0`, RAYON_NUM_THREADS=1) and on all cores; librosa: `librosa.load(SONG)` alone (22050 Hz mono, its defaults), timed
inside an already started Python (import excluded, one warm-up load). Medians of --runs, in one
run of this script, so the ratio compares like with like.

Usage: .venv/bin/python benches/predict_song.py SONG.mp3 [--runs 5] [--genre target/release/genre] [-- extra predict args]
Make a 3-minute 44.1 kHz stereo mp3 from six GTZAN clips:
  for i in 0 1 2 3 4 5; do echo "file '$PWD/../shared/data/gtzan/audio/rock/rock.0000$i.flac'"; done > /tmp/c.txt
  ffmpeg -f concat -safe 0 -i /tmp/c.txt -ar 44100 -ac 2 -b:a 192k /tmp/song3min.mp3
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def time_genre(genre, song, threads, runs, extra):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    pin = ["taskset", "-c", "0"] if threads == 1 else []
    times = []
    for _ in range(runs + 1):  # the first run warms the page cache
        t = time.perf_counter()
        out = subprocess.run([*pin, genre, "predict", song, *extra], env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]), out.stdout.strip().splitlines()[0]


def time_librosa(song, runs):
    import librosa
    librosa.load(song)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        librosa.load(song)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("song")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--genre", default="target/release/genre")
    a, extra = ap.parse_known_args()
    a.extra = [x for x in extra if x != "--"]
    lib = time_librosa(a.song, a.runs)
    print(f"librosa.load: {lib:.3f} s (median of {a.runs})")
    for threads in (1, os.cpu_count()):
        t, answer = time_genre(a.genre, a.song, threads, a.runs, a.extra)
        print(f"genre predict, {threads} core(s): {t:.3f} s = {t / lib:.2f}x librosa.load  [{answer}]")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
