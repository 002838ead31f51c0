"""genre through Ray Data on a local cluster with two model workers (loopback only), against `genre scan`
on the same folder: the same genre and probabilities, file by file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLI, REPO

ray = pytest.importorskip("ray", reason="pip install 'ray[data]' (scripts/test.sh does)")
pq = pytest.importorskip("pyarrow.parquet")

sys.path.insert(0, str(REPO / "examples"))
import ray_scan  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    # Workers import `ray_scan` (the callable class lives there) and `genre` by path, as the driver does.
    path = os.pathsep.join([str(REPO / "examples"), *sys.path])
    env = {"env_vars": {"PYTHONPATH": path}}
    # Two model workers (one CPU each) and one CPU for the read tasks: with only two CPUs the
    # actors would hold both and the reads could never be scheduled.
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1", runtime_env=env)
    yield
    ray.shutdown()


def test_ray_data_equals_genre_scan(tmp_path: Path, cluster) -> None:
    if not CLI.exists():
        pytest.skip(f"{CLI} not built (cargo build --release)")
    lib = tmp_path / "lib"
    subprocess.run([CLI, "synth", lib, "--classes", "3", "--per-class", "2", "--secs", "4"], check=True)
    (lib / "broken.wav").write_bytes(b"RIFF not really")

    out = tmp_path / "ray_out"
    ray_scan.scan(str(lib), str(out), workers=2, batch_size=2)
    rows = pq.read_table(out).to_pylist()

    db, table = tmp_path / "scan.sqlite", tmp_path / "scan.parquet"
    subprocess.run([CLI, "scan", lib, "--db", db, "--top-tags", "0", "-q", "--export", table], check=False)
    want = {Path(r["path"]).resolve(): r for r in pq.read_table(table).to_pylist()}

    assert len(rows) == len(want) == 7
    for r in rows:
        w = want[Path(r["path"]).resolve()]
        if w["error"]:
            assert r["error"] and r["genre"] is None, r
            continue
        assert r["error"] is None and r["genre"] == w["genre"], (r, w)
        got, exp = json.loads(r["probabilities"]), json.loads(w["probabilities"])
        assert got.keys() == exp.keys()
        assert all(abs(got[k] - exp[k]) < 1e-5 for k in got), (got, exp)
