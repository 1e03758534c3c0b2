#!/bin/sh
# build_corpus.sh: the recipe of the committed corpus numbers: fetches the pinned icon sets, builds the
# 5,000-sample training corpus, a validation corpus and the 200-sample TASD-T test split (split by source icon,
# chosen to cover the trigger words), then prints Table I and draws the charts and a contact sheet.
# Resumable: run it again after an interruption. Output goes to corpus/ (ignored by git; never commit it).
#
# Usage: scripts/build_corpus.sh [OUT] [SIZE]   (defaults: corpus, 256: the shipped model's corpus; docs/dataset.md)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-corpus}
SIZE=${2:-256}
ILDIFF=${ILDIFF:-build/ildiff}
./scripts/fetch_sources.sh
mkdir -p "$OUT"
"$ILDIFF" dataset build --out "$OUT/train" --split train --count 5000 --seed 1 --size "$SIZE"
"$ILDIFF" dataset build --out "$OUT/val" --split val --count 500 --seed 2 --size "$SIZE"
# TASD-T: 200 samples of test-split icons, greedy cover of the trigger words over a pool of 2,000 plans.
"$ILDIFF" dataset build --out "$OUT/tasd-t" --split test --count 200 --seed 2024 --cover --size "$SIZE"
# The exchange form `ildiff eval` reads: TASD-T, and the validation split (baseline tuning, the CI floor clips).
export_split() { # export_split CORPUS SPLIT OUT: written under OUT.tmp, renamed when complete
    [ -d "$3" ] && return 0
    rm -rf "$3.tmp"
    "$ILDIFF" dataset export --corpus "$1" --split "$2" --out "$3.tmp" >/dev/null
    mv "$3.tmp" "$3"
}
export_split "$OUT/tasd-t" test "$OUT/tasd-t-eval"
export_split "$OUT/val" val "$OUT/val-eval"
for c in train val tasd-t; do
    "$ILDIFF" dataset stats --corpus "$OUT/$c" --out "$OUT/$c-stats"
done
"$ILDIFF" dataset sheet --corpus "$OUT/train" --out "$OUT/train-sheet.png" --count 16
