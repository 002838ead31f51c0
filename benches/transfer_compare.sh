#!/usr/bin/env bash
# Valid scores of the from-scratch families and the musicnn transfer models on the same
# artist-filtered GTZAN split (the audio in ../shared/data/gtzan: 101 clips + 323 excerpts;
# train partition to learn, valid partition to choose the epoch). Prints one line per model.
# Usage: bash benches/transfer_compare.sh [OUT_DIR]   (run from the repository root after
# `cargo build --release`; about an hour on 2 cores, most of it the from-scratch CNNs).
set -euo pipefail
OUT=${1:-/tmp/genre-compare}
G=./target/release/genre
LISTS=../shared/data/gtzan/splits/train.txt,../shared/data/gtzan/splits/valid.txt
mkdir -p "$OUT"
run() { # name, then train options
  local name=$1; shift
  $G train models/gtzan.csv --lists "$LISTS" --out "$OUT/$name" -q "$@" 2>&1 | grep -E "^\[list split / valid\]" | sed "s/^/$name: /"
}
run musicnn-head --model musicnn --lr 3e-4 --epochs 80 --patience 25
run musicnn-finetune --model musicnn --finetune --init "$OUT/musicnn-head" --lr 1e-5 --epochs 20 --patience 6
run cnn --model cnn --epochs 25 --patience 8
run crnn --model crnn --epochs 25 --patience 8
run lstm --model lstm --epochs 25 --patience 8
