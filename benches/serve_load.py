"""Load benchmark of `genre serve` (not a test): N concurrent clients post the same audio file for
a bounded time against loopback; prints requests/s, p50/p99 latency, status counts and the
server's peak RSS (VmHWM). Standard library only.

Usage: python3 benches/serve_load.py [--clients 4] [--seconds 60] [--workers 1] AUDIO_FILE
(run from the repository root after `cargo build --release`; it starts and stops the server).
"""
import argparse
import http.client
import statistics
import subprocess
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("audio")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--binary", default="./target/release/genre")
    a = ap.parse_args()
    server = subprocess.Popen([a.binary, "serve", "--addr", "127.0.0.1:0", "--workers", str(a.workers)],
                              stderr=subprocess.PIPE, text=True)
    line = server.stderr.readline()
    host, port = line.strip().rsplit("/", 2)[-2].split(":")
    body = open(a.audio, "rb").read()
    lat, codes, lock = [], {}, threading.Lock()
    stop = time.time() + a.seconds

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=600)
        while time.time() < stop:
            t = time.perf_counter()
            conn.request("POST", "/api/predict", body, {"Content-Type": "application/octet-stream"})
            r = conn.getresponse()
            r.read()
            with lock:
                lat.append(time.perf_counter() - t)
                codes[r.status] = codes.get(r.status, 0) + 1

    t0 = time.time()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    hwm = [l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM")][0].split()[1]
    server.terminate()
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(f"{a.clients} clients, {a.workers} worker(s), {wall:.0f} s, {len(body) / 1e6:.1f} MB upload: "
          f"{len(lat) / wall:.2f} requests/s, p50 {q(0.5) * 1000:.0f} ms, p99 {q(0.99) * 1000:.0f} ms, "
          f"mean {statistics.mean(lat) * 1000:.0f} ms, statuses {codes}, server peak RSS {int(hwm) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
