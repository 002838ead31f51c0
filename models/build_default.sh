#!/usr/bin/env bash
# Rebuild the default model (issue #16): choose on valid, calibrate there, refit on train + valid.
#   1. each member trained on the train list, its epoch chosen and its temperature fitted on valid;
#   2. the ensemble's weight and temperature fitted on the valid files' `genre predict --json`;
#   3. each member trained again with the same options plus --refit (train + valid, that epoch
#      count), which is what ships. Scores in the cards stay the choice stage's.
# Usage: models/build_default.sh [WORK_DIR]   (about 10 minutes on 2 cores, most of it embeddings)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/genre-default-build}
genre=./target/release/genre
shared=${GENRE_SHARED:-../shared}
lists=$shared/data/gtzan/splits/train.txt,$shared/data/gtzan/splits/valid.txt
head_opts=(models/gtzan.csv --model musicnn --lr 3e-4 --epochs 80 --patience 25 --lists "$lists")
mlp_opts=("$shared/data/gtzan/features_30_sec.csv" --model features --lists "$lists" --batch 64 --epochs 100 --patience 30)
mkdir -p "$work/choice"
# 1. The choice stage.
$genre train "${head_opts[@]}" --out "$work/choice/musicnn-head" -q
$genre train "${mlp_opts[@]}" --out "$work/choice/gtzan57" -q
# 2. The ensemble on valid, uncalibrated, then its temperature.
python3 benches/valid_accuracy.py --files models/gtzan.csv "$shared/data/gtzan/splits/valid.txt" > "$work/valid_files.txt"
printf '{"members": [{"model": "../musicnn-head", "weight": 0.7}, {"model": "../gtzan57", "weight": 0.3, "max_windows": 1}]}\n' \
    > "$work/choice/ensemble.json"
mkdir -p "$work/choice/default" && mv "$work/choice/ensemble.json" "$work/choice/default/"
$genre predict $(cat "$work/valid_files.txt") --model "$work/choice/default" --json -q > "$work/valid_default.json" || true
python3 benches/valid_accuracy.py --calibrate "$work/valid_default.json" "$work/reliability_default.json" | tee "$work/calibration.txt"
# 3. The refit that ships.
for m in musicnn-head gtzan57; do rm -rf "models/$m"; done
$genre train "${head_opts[@]}" --refit --out models/musicnn-head -q && rm -r models/musicnn-head/checkpoint models/musicnn-head/refit
$genre train "${mlp_opts[@]}" --refit --out models/gtzan57 -q && rm -r models/gtzan57/checkpoint models/gtzan57/refit
t=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['temperature'], 3))" "$work/reliability_default.json")
printf '{\n  "members": [\n    { "model": "../musicnn-head", "weight": 0.7 },\n    { "model": "../gtzan57", "weight": 0.3, "max_windows": 1 }\n  ],\n  "temperature": %s\n}\n' "$t" \
    > models/default/ensemble.json
echo "done: temperature $t; rebuild the binary (cargo build --release) to embed the new default"
