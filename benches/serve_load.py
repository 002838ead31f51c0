"""Load measurements of `genre serve` (not a test; nothing here asserts a timing). Starts the
server, drives it over loopback, prints the server's peak RSS (VmHWM) and the answers.

  big:   N clients each send one large noise WAV at once as the raw body (memory under large
         concurrent uploads: the body must be streamed to disk, not held).
  small: N clients post a short clip over and over for T seconds (requests/s, p50/p99 latency,
         statuses, connection errors).

Usage (from the repository root, after `cargo build --release`):
  python3 benches/serve_load.py big --clients 24 --mb 45 --timeout 900
  python3 benches/serve_load.py small --clients 50 --seconds 60
Extra server options after `--`, e.g. `-- --queue 64 --workers 2`. Standard library only.
"""
import argparse
import http.client
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time


def noise_wav(path, mb, rate=22050, seed=1):
    """A mono 16-bit WAV of about `mb` MB of noise, written piece by piece."""
    n = (mb << 20) // 2
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + 2 * n) + b"WAVEfmt ")
        f.write(struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" + struct.pack("<I", 2 * n))
        block = 1 << 16
        for i in range(0, n, block):
            k = min(block, n - i)
            f.write(rng.randbytes(2 * k))


def tone_wav(path, secs=4.0, rate=22050):
    """A short clip: a chord with a beat, so the model has something to say."""
    import math
    n = int(secs * rate)
    s = [int(8000 * (math.sin(2 * math.pi * 220 * t / rate) + 0.5 * math.sin(2 * math.pi * 330 * t / rate))
             * (1.0 if (t // (rate // 4)) % 2 == 0 else 0.4)) for t in range(n)]
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + 2 * n) + b"WAVEfmt ")
        f.write(struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" + struct.pack("<I", 2 * n))
        f.write(struct.pack(f"<{n}h", *s))


class Server:
    def __init__(self, binary, extra):
        self.tmp = tempfile.mkdtemp(prefix="genre-load-")
        self.p = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--tmp", self.tmp] + extra,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        self.host, port = line.strip().rstrip("/").rsplit("/", 1)[-1].split(":")
        self.port = int(port)
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.p.stderr), daemon=True).start()
        self.peak_rss_mb = 0.0
        self.sampling = True
        threading.Thread(target=self.sample, daemon=True).start()

    def status(self, key):
        for l in open(f"/proc/{self.p.pid}/status"):
            if l.startswith(key):
                return int(l.split()[1]) / 1024
        return 0.0

    def sample(self):
        # VmHWM is the kernel's own peak; sampling VmRSS as well shows when it happened.
        while self.sampling and self.p.poll() is None:
            self.peak_rss_mb = max(self.peak_rss_mb, self.status("VmRSS"))
            time.sleep(0.05)

    def stop(self):
        hwm = self.status("VmHWM")
        self.sampling = False
        self.p.terminate()
        code = self.p.wait(timeout=60)
        left = os.listdir(self.tmp)  # the server removes its private folder on SIGTERM
        if left:
            print(f"left behind in {self.tmp}: {left}")
        else:
            os.rmdir(self.tmp)
        return hwm, code


def post_file(host, port, path, size, timeout):
    """POST a file as the raw body, sent in 64 KB pieces: (status, seconds)."""
    t = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.putrequest("POST", "/api/predict")
    conn.putheader("Content-Type", "audio/wav")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 16):
            conn.send(chunk)
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status, time.perf_counter() - t


def big(a, extra):
    wav = os.path.join(tempfile.gettempdir(), f"genre-load-noise-{a.mb}mb.wav")
    if not os.path.exists(wav):
        noise_wav(wav, a.mb)
    size = os.path.getsize(wav)
    s = Server(a.binary, ["--timeout", str(a.timeout)] + extra)
    codes, errors, times, lock = {}, [], [], threading.Lock()

    def client():
        try:
            code, secs = post_file(s.host, s.port, wav, size, a.timeout + 60)
            with lock:
                codes[code] = codes.get(code, 0) + 1
                times.append(secs)
        except (OSError, http.client.HTTPException) as e:
            with lock:
                errors.append(type(e).__name__)

    t0 = time.time()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    hwm, code = s.stop()
    print(f"big: {a.clients} concurrent {size / 2**20:.0f} MB raw uploads, server {extra or 'defaults'}: "
          f"{wall:.0f} s, statuses {codes}, connection errors {errors or 'none'}, "
          f"slowest answer {max(times or [0]):.0f} s; server peak RSS {hwm:.0f} MB (VmHWM), "
          f"exit code {code}")


def small(a, extra):
    wav = os.path.join(tempfile.gettempdir(), "genre-load-clip.wav")
    if not os.path.exists(wav):
        tone_wav(wav)
    body = open(wav, "rb").read()
    s = Server(a.binary, extra)
    lat, lat_ok, codes, errors, lock = [], [], {}, {}, threading.Lock()
    stop = time.time() + a.seconds

    def client():
        conn = None
        while time.time() < stop:
            t = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection(s.host, s.port, timeout=300)
                conn.request("POST", "/api/predict", body, {"Content-Type": "audio/wav"})
                r = conn.getresponse()
                r.read()
                with lock:
                    lat.append(time.perf_counter() - t)
                    if r.status == 200:
                        lat_ok.append(lat[-1])
                    codes[r.status] = codes.get(r.status, 0) + 1
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                if conn:
                    conn.close()
                conn = None

    t0 = time.time()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    hwm, code = s.stop()
    def q(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0

    ok = codes.get(200, 0)
    print(f"small: {a.clients} clients, {wall:.0f} s, {len(body) / 1024:.0f} KB clip, server {extra or 'defaults'}: "
          f"{len(lat) / wall:.2f} answers/s, {ok / wall:.2f} of them 200/s; latency of all answers p50 "
          f"{q(lat, 0.5):.0f} ms p99 {q(lat, 0.99):.0f} ms, of the 200s p50 {q(lat_ok, 0.5):.0f} ms "
          f"p99 {q(lat_ok, 0.99):.0f} ms; statuses {codes}, connection errors {errors or 'none'}; "
          f"server peak RSS {hwm:.0f} MB, exit code {code}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["big", "small"])
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--mb", type=int, default=45)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--timeout", type=int, default=900, help="the server's --timeout (big)")
    ap.add_argument("--binary", default="./target/release/genre")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])  # what follows `--` goes to `genre serve`
    (big if a.mode == "big" else small)(a, argv[cut + 1:])


if __name__ == "__main__":
    main()
