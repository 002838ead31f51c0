#!/usr/bin/env bash
# Two builds train the same model on ../shared's GTZAN audio with the same seed (issue #17.3):
# wall time and peak RSS of each, its per-epoch seconds, and whether the learning curves and the
# weights are identical.
# Usage (repository root): benches/models/epoch_compare.sh BEFORE_BINARY AFTER_BINARY [cnn] [epochs]
set -euo pipefail
before=$1 after=$2 model=${3:-cnn} epochs=${4:-2}
shared=${GENRE_SHARED:-../shared}
lists=$shared/data/gtzan/splits/train.txt,$shared/data/gtzan/splits/valid.txt
out=${TMPDIR:-/tmp}/genre-epoch-compare
mkdir -p "$out"
# Build the feature cache first, so neither timed run pays for it.
"$after" train models/gtzan.csv --model "$model" --lists "$lists" --epochs 1 --patience 0 --seed 7 \
    --cache "$out/cache" --out "$out/warm" -q > /dev/null 2>&1
for who in before after; do
    bin=$before; [ "$who" = after ] && bin=$after
    rm -rf "${out:?}/$who"
    /usr/bin/time -o "$out/$who.time" -f "$who: %e s wall, %M KB peak RSS" "$bin" train models/gtzan.csv \
        --model "$model" --lists "$lists" --epochs "$epochs" --patience 0 --seed 7 --cache "$out/cache" \
        --out "$out/$who" -q > /dev/null 2>&1
    cat "$out/$who.time"
    echo "$who per epoch (s): $(tail -n +2 "$out/$who/metrics.csv" | cut -d, -f9 | paste -sd' ')"
done
if diff <(cut -d, -f1-8 "$out/before/metrics.csv") <(cut -d, -f1-8 "$out/after/metrics.csv") > /dev/null; then
    echo "learning curves identical:"; cat "$out/after/metrics.csv"
else
    echo "learning curves differ:"; paste -d'\n' "$out/before/metrics.csv" "$out/after/metrics.csv"
fi
