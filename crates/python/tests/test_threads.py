"""Python threads run genre concurrently: the GIL is released while Rust works, and answers
do not depend on what runs beside them."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import genre


def work(model, path, y):
    p = model.predict(path, segments=False)
    return (
        p["probabilities"],
        genre.feature.mfcc(y=y),
        genre.power_to_db(genre.feature.melspectrogram(y=y)),
        genre.gtzan57(y),
    )


def test_four_threads_give_one_threads_answers(model, short_wav):
    y, _ = genre.load(short_wav)
    alone = work(model, short_wav, y)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: work(model, short_wav, y), range(8)))
    for r in results:
        for a, b in zip(r, alone):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_the_gil_is_released(y):
    """While a Rust call runs in one thread, another Python thread keeps running: with the GIL
    held it could not advance at all during the call."""
    counts = []
    done = threading.Event()

    def compute():
        for _ in range(5):
            genre.effects.hpss(y)
        done.set()

    t = threading.Thread(target=compute)
    start = time.perf_counter()
    t.start()
    n = 0
    while not done.is_set():
        n += 1
        counts.append(time.perf_counter())
    t.join()
    elapsed = time.perf_counter() - start
    # The longest pause of this loop must be far shorter than the calls (each ~100 ms+).
    gaps = np.diff(counts) if len(counts) > 1 else np.array([elapsed])
    assert n > 1000 and gaps.max() < 0.5 * elapsed / 5, (n, gaps.max(), elapsed)
