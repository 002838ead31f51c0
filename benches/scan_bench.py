"""`genre scan` throughput and memory, and the same library through Ray Data.

    python benches/scan_bench.py --tracks 2000 --secs 30 --threads 1 2      # generated 30 s WAVs
    python benches/scan_bench.py --mp3 20                                  # 3-minute 44.1 kHz stereo mp3s (ffmpeg)
    python benches/scan_bench.py --tracks 200 --ray 2                      # + Ray Data, 2 workers

For each run: tracks/s (wall), core-seconds per track (user + sys of the child over tracks),
and the child's peak RSS. Run it at two library sizes to see that peak RSS does not grow with
the number of tracks. Needs target/release/genre; --ray needs the package built
(scripts/test.sh stages it in target/python-package) and `pip install 'ray[data]'`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GENRE = REPO / "target" / "release" / "genre"
GTZAN = Path(os.environ.get("GENRE_SHARED", REPO.parent / "shared")) / "data" / "gtzan" / "audio"


def timed(cmd: list, env: dict | None = None) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, child peak RSS in MB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest of any child so far: run sizes ascending.
    return wall, cpu, after.ru_maxrss // 1024


def synth_library(root: Path, tracks: int, secs: float) -> Path:
    lib = root / f"lib-{tracks}x{secs:g}s"
    if not lib.exists():
        per = -(-tracks // 6)
        subprocess.run([GENRE, "synth", lib, "--classes", "6", "--per-class", str(per), "--secs", str(secs)], check=True)
        extra = sorted(lib.rglob("*.wav"))[tracks:]
        for f in extra:
            f.unlink()
    return lib


def mp3_library(root: Path, n: int) -> Path:
    """`n` 3-minute 44.1 kHz stereo mp3s, each six real GTZAN clips end to end."""
    lib = root / f"mp3-{n}"
    if lib.exists():
        return lib
    lib.mkdir(parents=True)
    clips = sorted(GTZAN.rglob("*.flac"))
    for i in range(n):
        parts = [clips[(6 * i + k) % len(clips)] for k in range(6)]
        inputs = sum((["-i", str(p)] for p in parts), [])
        graph = "".join(f"[{k}:a]" for k in range(6)) + "concat=n=6:v=0:a=1[a]"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[a]",
                        "-ar", "44100", "-ac", "2", "-b:a", "192k", str(lib / f"song{i:03d}.mp3")], check=True)
    return lib


def scan(lib: Path, threads: int, work: Path, tags: int) -> None:
    n = sum(1 for _ in lib.rglob("*") if _.is_file())
    db = work / f"scan-{lib.name}-{threads}.sqlite"
    for f in work.glob(db.name + "*"):
        f.unlink()
    cmd = [GENRE, "scan", lib, "--db", db, "-q", "--top-tags", str(tags)]
    wall, cpu, rss = timed(cmd, {"RAYON_NUM_THREADS": str(threads)})
    print(f"genre scan  {lib.name:>16}  {threads} thread(s)  tags {tags}:  {n / wall:6.2f} tracks/s  "
          f"{cpu / n:6.3f} core-s/track  peak RSS {rss} MB  ({n} tracks, {wall:.1f} s)", flush=True)


def ray_run(lib: Path, workers: int, work: Path) -> None:
    package = str(REPO / "target" / "python-package")
    sys.path[:0] = [str(REPO / "examples"), package]
    import ray
    import ray_scan

    # The workers import `genre` from the staged package; one CPU more than the workers for the reads.
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}}
    ray.init(num_cpus=workers + 1, include_dashboard=False, log_to_driver=False, runtime_env=env)
    files = ray_scan.audio_files(str(lib))
    out = work / f"ray-{lib.name}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    ray_scan.scan(str(lib), str(out), workers=workers)
    wall = time.perf_counter() - t0
    ray.shutdown()
    print(f"Ray Data    {lib.name:>16}  {workers} worker(s):  {len(files) / wall:6.2f} tracks/s  "
          f"({len(files)} tracks, {wall:.1f} s, startup included)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, nargs="*", default=[], help="generated libraries of these sizes")
    ap.add_argument("--secs", type=float, default=30.0)
    ap.add_argument("--mp3", type=int, default=0, help="also this many 3-minute mp3s")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--tags", type=int, default=5, help="--top-tags (0: genres only)")
    ap.add_argument("--ray", type=int, default=0, help="also through Ray Data with this many workers")
    ap.add_argument("--only-ray", action="store_true", help="skip the genre scan runs")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "genre-scan-bench")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    libs = [synth_library(a.work, n, a.secs) for n in sorted(a.tracks)]
    if a.mp3:
        libs.append(mp3_library(a.work, a.mp3))
    for lib in libs:
        for t in [] if a.only_ray else a.threads:
            scan(lib, t, a.work, a.tags)
    if a.ray:
        for lib in libs:
            ray_run(lib, a.ray, a.work)


if __name__ == "__main__":
    main()
