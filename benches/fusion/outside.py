"""Choose the "outside the model's genres" signal (issue #16.3) on what ../shared holds.

No out-of-genre music is in ../shared, so each GTZAN genre in turn plays "outside": a head is
trained without it (blocked 5-fold CV over train + valid, blocks of 10 clip numbers standing in
for artists), and the signals are scored on the held-out fold: the left-out genre's tracks are
positives, the others negatives. The MSD-tag signal cannot be judged that way (the tags know
every GTZAN genre), so for it only the false flags on in-genre tracks are counted.
Usage: python outside.py DIR  (DIR with msd_penultimate.csv and msd_taggram.csv from explore.py's recipe)
"""
import os, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(__file__))
from explore import load, GENRES  # noqa: E402

DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fusion"
MSD = ("rock pop alternative indie electronic female_vocalists dance 00s alternative_rock jazz beautiful metal "
       "chillout male_vocalists classic_rock soul indie_rock Mellow electronica 80s folk 90s chill instrumental punk "
       "oldies blues hard_rock ambient acoustic experimental female_vocalist guitar Hip-Hop 70s party country "
       "easy_listening sexy catchy funk electro heavy_metal Progressive_rock 60s rnb indie_pop sad House happy").split()
MSD = [t.replace("_", " ") for t in MSD]
OUTSIDE_TAGS = ["electronic", "dance", "electronica", "electro", "House", "punk", "folk", "soul", "rnb", "funk",
                "ambient", "experimental", "chillout", "easy listening", "indie", "alternative", "indie pop"]
INSIDE_TAGS = ["rock", "pop", "jazz", "metal", "blues", "Hip-Hop", "country", "classic rock", "heavy metal",
               "hard rock", "alternative rock", "Progressive rock", "indie rock", "oldies"]


def main():
    keys, pen = load("msd_penultimate")
    _, tag = load("msd_taggram")
    files = [k[0] for k in keys]
    tracks = sorted(set(files))
    tid = np.array([tracks.index(f) for f in files])
    y = np.array([GENRES.index(f.split("/")[-2]) for f in tracks])
    number = np.array([int(os.path.basename(f).split(".")[1]) for f in tracks])
    block = y * 100 + number // 10
    ub = np.unique(block)
    fold_of = dict(zip(ub, np.random.default_rng(0).permutation(len(ub)) % 5))
    fold = np.array([fold_of[b] for b in block])
    n = len(tracks)
    mean_tag = np.zeros((n, 50))
    np.add.at(mean_tag, tid, tag)
    mean_tag /= np.bincount(tid)[:, None]
    o = [MSD.index(t) for t in OUTSIDE_TAGS]
    i = [MSD.index(t) for t in INSIDE_TAGS]
    tag_signal = mean_tag[:, o].max(1) - mean_tag[:, i].max(1)
    scores = {"1 - max prob": [], "kNN distance": [], "tags": []}
    labels = []
    for g in range(10):
        for k in range(5):
            train = (fold != k) & (y != g)
            test = fold == k
            if not (test & (y == g)).any():
                continue
            tr_w = train[tid]
            mu, sd = pen[tr_w].mean(0), np.maximum(pen[tr_w].std(0), 0.1)
            z = (pen - mu) / sd
            classes = [c for c in range(10) if c != g]
            m = LogisticRegression(C=0.001, max_iter=3000, class_weight="balanced").fit(z[tr_w], y[tid[tr_w]])
            pt = np.zeros((n, 9))
            np.add.at(pt, tid, m.predict_proba(z))
            pt /= np.bincount(tid)[:, None]
            zt = np.zeros((n, z.shape[1]))
            np.add.at(zt, tid, z)
            zt /= np.bincount(tid)[:, None]
            zt /= np.linalg.norm(zt, axis=1, keepdims=True) + 1e-9
            sim = zt[test] @ zt[train].T
            knn = 1 - np.sort(sim, 1)[:, -5:].mean(1)
            scores["1 - max prob"].extend(1 - pt[test].max(1))
            scores["kNN distance"].extend(knn)
            scores["tags"].extend(tag_signal[test])
            labels.extend(y[test] == g)
    labels = np.array(labels)
    for name, s in scores.items():
        s = np.array(s)
        auc = roc_auc_score(labels, s)
        line = f"{name:14s} AUROC {auc:.3f}"
        for fpr in (0.05, 0.10):
            th = np.quantile(s[~labels], 1 - fpr)
            line += f" | at {fpr:.0%} in-genre flagged: {np.mean(s[labels] > th):.0%} of the left-out genre flagged (threshold {th:.3f})"
        print(line)
    # The MSD-tag signal's false flags on the (in-genre) tracks, per genre, at 0.
    for th in (0.0, 0.1, 0.2):
        flagged = tag_signal > th
        per = " ".join(f"{GENRES[c][:4]} {np.mean(flagged[y == c]):.0%}" for c in range(10))
        print(f"tags > {th}: {np.mean(flagged):.0%} of in-genre tracks flagged ({per})")
    # Top outside tags of in-genre music, as a sanity check of what the tags mean.
    for c in range(10):
        top = np.argsort(-mean_tag[y == c].mean(0))[:5]
        print(GENRES[c], [f"{MSD[t]} {mean_tag[y == c, t].mean():.2f}" for t in top])


main()
