"""Accuracy of `genre predict --json` output against the genre folder each file sits in, overall
and for full clips (`/audio/`) and short excerpts (`/excerpts/`) apart; with two JSON files, also
the weighted mixes of their file probabilities (how the default ensemble's weight was chosen).

Usage (no dependencies beyond Python 3), from the repository root:
  python3 benches/valid_accuracy.py --files models/gtzan.csv ../shared/data/gtzan/splits/valid.txt > /tmp/valid_files.txt
  ./target/release/genre predict $(cat /tmp/valid_files.txt) --model models/musicnn-head --json -q > head.json
  ./target/release/genre predict $(cat /tmp/valid_files.txt) --model models/gtzan57 --json -q > mlp.json
  python3 benches/valid_accuracy.py head.json mlp.json
  ./target/release/genre predict $(cat /tmp/valid_files.txt) --json -q > default.json   # the built-in default
  python3 benches/valid_accuracy.py --confusion default.json
  python3 benches/valid_accuracy.py --calibrate default.json [reliability.json]  # temperature, ECE, outside flags
"""
import json
import math
import sys


def load(path):
    d = json.load(open(path))
    return d["classes"], {p["file"]: p["probabilities"] for p in d["predictions"]}


def score(classes, probs):
    def ok(files):
        return sum(classes[max(range(len(classes)), key=lambda i: probs[f][i])] == f.split("/")[-2] for f in files)
    files = sorted(probs)
    clips = [f for f in files if "/audio/" in f]
    excerpts = [f for f in files if "/excerpts/" in f]
    return f"{ok(files)}/{len(files)} = {ok(files) / len(files):.3f} (clips {ok(clips)}/{len(clips)}, excerpts {ok(excerpts)}/{len(excerpts)})"


def files(manifest, split_list):
    """The manifest's audio files (paths as seen from the repository root) on a split list."""
    base = manifest.rsplit("/", 1)[0] if "/" in manifest else "."
    stems = {line.strip().rsplit("/", 1)[-1].rsplit(".", 1)[0] for line in open(split_list) if line.strip()}
    for line in open(manifest).read().splitlines()[1:]:
        path = line.split(",")[0]
        if path.rsplit("/", 1)[-1].rsplit(".", 1)[0] in stems:
            print(f"{base}/{path}")


def confusion(classes, probs):
    """Markdown confusion matrix (rows = true genre = parent folder)."""
    idx = {c: i for i, c in enumerate(classes)}
    m = [[0] * len(classes) for _ in classes]
    for f, p in probs.items():
        m[idx[f.split("/")[-2]]][max(range(len(classes)), key=lambda i: p[i])] += 1
    out = "| true \\ predicted | " + " | ".join(c[:3] for c in classes) + " |\n|---|" + "---:|" * len(classes) + "\n"
    for c, row in zip(classes, m):
        out += f"| {c} | " + " | ".join(map(str, row)) + " |\n"
    return out


def sharpen(p, t):
    """p^(1/t) renormalised: genre's temperature scaling of probabilities (crates/model/src/calibration.rs)."""
    logs = [math.log(max(v, 1e-30)) / t for v in p]
    top = max(logs)
    e = [math.exp(v - top) for v in logs]
    return [v / sum(e) for v in e]


def reliability(classes, probs, bins=10):
    """Expected calibration error and the bins (mean top probability, accuracy, count), as genre computes them."""
    acc = [[0, 0.0, 0] for _ in range(bins)]
    for f, p in probs.items():
        top = max(range(len(p)), key=lambda i: p[i])
        k = min(int(p[top] * bins), bins - 1)
        acc[k][0] += 1
        acc[k][1] += p[top]
        acc[k][2] += classes[top] == f.split("/")[-2]
    n = len(probs)
    out = [{"confidence": c / max(m, 1), "accuracy": r / max(m, 1), "count": m} for m, c, r in acc]
    ece = sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in out)
    return ece, out


def calibrate(path, out=None):
    """Fit the temperature of a `genre predict --json` output on its own files (lowest NLL of
    the true genres), print ECE before and after, and the files flagged outside the genres."""
    doc = json.load(open(path))
    classes = doc["classes"]
    probs = {p["file"]: p["probabilities"] for p in doc["predictions"]}
    truth = {f: classes.index(f.split("/")[-2]) for f in probs}

    def nll(t):
        return sum(-math.log(max(sharpen(p, t)[truth[f]], 1e-12)) for f, p in probs.items()) / len(probs)
    t = min((math.exp(x / 100) for x in range(-300, 300)), key=nll)
    before, bins_before = reliability(classes, probs)
    after_probs = {f: sharpen(p, t) for f, p in probs.items()}
    after, bins_after = reliability(classes, after_probs)
    mean_top = sum(max(p) for p in probs.values()) / len(probs)
    print(f"{len(probs)} files: temperature {t:.3f}; ECE {before:.3f} -> {after:.3f}; mean top probability {mean_top:.3f}, {score(classes, probs)}")
    flagged = [p for p in doc["predictions"] if p.get("outside")]
    print(f"outside flags: {len(flagged)}/{len(probs)} in-genre files flagged: " + ", ".join(
        f"{p['file'].rsplit('/', 1)[-1]} ({', '.join(p.get('outside_tags', []))})" for p in flagged))
    if out:
        json.dump({"temperature": t, "curves": [{"name": "before calibration", "ece": before, "bins": bins_before},
                                                 {"name": f"after (temperature {t:.2f})", "ece": after, "bins": bins_after}]},
                  open(out, "w"), indent=1)


def main():
    if sys.argv[1] == "--calibrate":
        return calibrate(*sys.argv[2:4])
    if sys.argv[1] == "--confusion":
        classes, probs = load(sys.argv[2])
        print(score(classes, probs))
        return print(confusion(classes, probs))
    if sys.argv[1] == "--files":
        return files(sys.argv[2], sys.argv[3])
    runs = [load(p) for p in sys.argv[1:3]]
    for path, (classes, probs) in zip(sys.argv[1:], runs):
        print(f"{path}: {score(classes, probs)}")
    if len(runs) == 2:
        (ca, a), (cb, b) = runs
        assert ca == cb, "the two runs have different classes"
        for w in (0.1, 0.2, 0.3, 0.4, 0.5):
            mix = {f: [(1 - w) * x + w * y for x, y in zip(a[f], b[f])] for f in a if f in b}
            print(f"mix {1 - w:.1f} x first + {w:.1f} x second: {score(ca, mix)}")


if __name__ == "__main__":
    main()
