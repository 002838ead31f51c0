"""Choose the default model's fusion on the valid side (issue #16.1), from `genre embed` CSVs.

Input: one CSV per (network, layer) made by
    genre embed $(cat files.txt) --model msd|mtt --layer penultimate|taggram|pooled --hop 1.5 --out DIR/msd_penultimate.csv
over the audio of models/gtzan.csv. Heads are L2 logistic regressions on standardised window
features (what `genre train --model musicnn` fits, a dense layer, up to its dropout); a track's
probabilities are the mean of its windows'. Scores are on the artist-filtered valid list.
"""
import csv, sys, os, itertools
import numpy as np
from sklearn.linear_model import LogisticRegression

DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fusion"
SPLITS = os.environ.get("GENRE_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared")) + "/data/gtzan/splits"
GENRES = "blues classical country disco hiphop jazz metal pop reggae rock".split()


def load(name):
    files, rows = [], []
    with open(f"{DIR}/{name}.csv") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            files.append((row[0], row[1]))
            rows.append([float(v) for v in row[3:]])
    return files, np.array(rows, np.float32)


def track_key(path):
    g, stem = path.split("/")[-2], os.path.basename(path).split(".")
    return f"{g}/{stem[0]}.{stem[1]}"


def split_of():
    out = {}
    for part in ("train", "valid"):
        for line in open(f"{SPLITS}/{part}.txt"):
            out[line.strip().rsplit(".", 1)[0]] = part
    return out


def main():
    names = [n[:-4] for n in sorted(os.listdir(DIR)) if n.endswith(".csv")]
    data = {}
    keys = None
    for n in names:
        k, x = load(n)
        if keys is None:
            keys = k
        assert k == keys, n
        data[n] = x
    files = [k[0] for k in keys]
    tracks = sorted(set(files))
    tid = np.array([tracks.index(f) for f in files])
    y_track = np.array([GENRES.index(f.split("/")[-2]) for f in tracks])
    sp = split_of()
    part = np.array([sp[track_key(f)] for f in tracks])
    excerpt = np.array(["/excerpts/" in f for f in tracks])
    print(f"{len(tracks)} tracks, {len(files)} windows; train {np.sum(part=='train')}, valid {np.sum(part=='valid')}")
    sets = {
        "msd_pen": ["msd_penultimate"],
        "mtt_pen": ["mtt_penultimate"],
        "msd_pen+mtt_pen": ["msd_penultimate", "mtt_penultimate"],
        "msd_pen+msd_tag": ["msd_penultimate", "msd_taggram"],
        "pen+tag (both)": ["msd_penultimate", "mtt_penultimate", "msd_taggram", "mtt_taggram"],
        "tag (both)": ["msd_taggram", "mtt_taggram"],
        "msd_pooled": ["msd_pooled"],
        "msd_pooled+msd_tag": ["msd_pooled", "msd_taggram"],
        "msd_pooled+mtt_pen+tags": ["msd_pooled", "mtt_penultimate", "msd_taggram", "mtt_taggram"],
    }
    only = os.environ.get("SETS")
    if only:
        sets = {k: v for k, v in sets.items() if k in only.split(",")}
    va = part == "valid"
    # Blocked CV over train + valid: GTZAN's clips of one artist are mostly consecutive numbers,
    # so blocks of 10 clip numbers per genre stand in for artists (every genre is scored, unlike
    # the valid list, which has no hiphop or reggae).
    number = np.array([int(os.path.basename(f).split(".")[1]) for f in tracks])
    block = np.array([GENRES.index(f.split("/")[-2]) * 100 + n // 10 for f, n in zip(tracks, number)])
    rng = np.random.default_rng(0)
    ub = np.unique(block)
    fold_of_block = dict(zip(ub, rng.permutation(len(ub)) % 5))
    fold = np.array([fold_of_block[b] for b in block])
    for name, parts in sets.items():
        if not all(p in data for p in parts):
            continue
        x = np.concatenate([data[p] for p in parts], 1)
        for c in (0.0003, 0.001, 0.003, 0.01):
            pt = fit_predict(x, tid, y_track, part == "train", c, len(tracks))
            right = pt.argmax(1) == y_track
            cv = np.zeros((len(tracks), 10))
            wcv = np.zeros((len(tid), 10))
            for k in range(5):
                pt_k, pw_k = fit_predict(x, tid, y_track, fold != k, c, len(tracks), windows=True)
                cv[fold == k] = pt_k[fold == k]
                wcv[fold[tid] == k] = pw_k[fold[tid] == k]
            rcv = cv.argmax(1) == y_track
            wright = wcv.argmax(1) == y_track[tid]
            print(f"{name:26s} C={c:<6} valid {right[va].mean():.3f} clips {right[va & ~excerpt].sum()}/{(va & ~excerpt).sum()}"
                  f" excerpts {right[va & excerpt].sum()}/{(va & excerpt).sum()} | blocked-CV {rcv.mean():.3f}"
                  f" clips {rcv[~excerpt].mean():.3f} excerpts {rcv[excerpt].mean():.3f} windows {wright.mean():.3f}  dim {x.shape[1]}", flush=True)


def fit_predict(x, tid, y_track, train_tracks, c, n_tracks, windows=False):
    """Track probabilities of every track from a head fitted on the windows of `train_tracks`."""
    tr_w = train_tracks[tid]
    mu, sd = x[tr_w].mean(0), np.maximum(x[tr_w].std(0), 0.1)  # as genre train: min std 0.1
    z = (x - mu) / sd
    m = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(z[tr_w], y_track[tid[tr_w]])
    pt = np.zeros((n_tracks, 10))
    pw = m.predict_proba(z)
    np.add.at(pt, tid, pw)
    pt /= np.bincount(tid)[:, None]
    return (pt, pw) if windows else pt


if __name__ == "__main__":
    main()
