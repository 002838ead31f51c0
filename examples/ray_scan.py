"""A music library tagged on Ray Data: every audio file of a folder through genre's default
model on a Ray cluster, the answers written as Parquet (one row per file: path, genre,
probabilities as JSON, error), the same rows `genre scan` writes.

    python examples/ray_scan.py MUSIC_DIR OUT_DIR            # a local cluster on this machine
    python examples/ray_scan.py MUSIC_DIR OUT_DIR --address auto   # an existing cluster

Each Ray worker holds one `genre.Model.default()` (loaded once, in the actor's constructor) and
predicts from the files' bytes; genre releases the GIL while it works and uses the worker's
cores for one file at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import genre
import ray

AUDIO = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".m4a", ".aac", ".mp4")


class Predict:
    """A Ray Data callable class: the model is built once per worker."""

    def __init__(self, max_windows: int = 64):
        self.model = genre.Model.default()
        self.classes = self.model.classes
        self.max_windows = max_windows

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {"path": [], "genre": [], "probabilities": [], "error": []}
        for path, data in zip(batch["path"], batch["bytes"]):
            out["path"].append(str(path))
            try:
                r = self.model.predict(bytes(data), segments=False, max_windows=self.max_windows)
            except (ValueError, OSError) as e:  # one bad file is that file's row, not the job's end
                out["genre"].append(None)
                out["probabilities"].append(None)
                out["error"].append(str(e))
                continue
            out["genre"].append(r["genre"])
            out["probabilities"].append(json.dumps(dict(zip(self.classes, r["probabilities"]))))
            out["error"].append(None)
        return out


def audio_files(folder: str) -> list[str]:
    """Every audio file under `folder`, sorted (as `genre scan` walks it)."""
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names if n.lower().endswith(AUDIO)]
    return sorted(found)


def scan(folder: str, out: str, workers: int = 2, batch_size: int = 8) -> None:
    """Tag every audio file of `folder` with `workers` model replicas; Parquet files in `out`."""
    # Ship `Predict` to the workers by value: they need `genre` installed, not this file.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ds = ray.data.read_binary_files(audio_files(folder), include_paths=True)
    ds = ds.map_batches(Predict, concurrency=workers, batch_size=batch_size, num_cpus=1)
    ds.write_parquet(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--address", default=None, help="Ray cluster address (default: start a local one)")
    ap.add_argument("--workers", type=int, default=2, help="model replicas (one CPU each)")
    a = ap.parse_args()
    # A local cluster gets one CPU more than the workers: the read tasks need one too.
    ray.init(address=a.address, include_dashboard=False, num_cpus=None if a.address else a.workers + 1)
    scan(a.folder, a.out, a.workers)


if __name__ == "__main__":
    main()
