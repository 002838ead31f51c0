#!/usr/bin/env bash
# Valid accuracy of a model against how many windows of each track it classifies
# (`--max-windows K`, evenly spread, first and last included): how issue #17.2's default
# window count was chosen. Only the 50 valid clips (30 s, 19 windows 1.5 s apart) can use many.
# Usage: benches/windows_curve.sh [--model RUN]   (from the repository root, after cargo build --release)
set -euo pipefail
shared=${GENRE_SHARED:-../shared}
files=$(python3 benches/valid_accuracy.py --files models/gtzan.csv "$shared/data/gtzan/splits/valid.txt" | grep /audio/)
for k in 1 2 3 4 6 8 12 64; do
    ./target/release/genre predict $files --max-windows $k --json -q "$@" > /tmp/windows_curve_$k.json || true
    echo "max windows $k: $(python3 benches/valid_accuracy.py /tmp/windows_curve_$k.json | sed 's/^[^:]*: //')"
done
