#!/bin/sh
# paper.sh: what `make paper` runs: the paper's tables and figures (`ildiff paper`) on TASD-T into a report folder.
# The rows: colour keying and border flood fill, the shipped default model as ILDiff (temporal depth 5), and, when
# scripts/train_default.sh has made them, the Layer Diffusion row (the decoder without the layout adapter) and the
# ablation depths 0, 3, 8 (runs/models/). TASD-T is built and exported first when missing (scripts/build_corpus.sh
# makes the same split with the same seed).
#
# Environment: ILDIFF (build/ildiff), PAPER_SAMPLES (corpus/tasd-t-eval), PAPER_CORPUS (corpus/tasd-t),
# PAPER_OUT (report), PAPER_SIZE (256, TASD-T's canvas when it is built here), RUNS (runs), MODEL (the default).
set -eu
cd "$(dirname "$0")/.."
ILDIFF=${ILDIFF:-build/ildiff}
SAMPLES=${PAPER_SAMPLES:-corpus/tasd-t-eval}
CORPUS=${PAPER_CORPUS:-corpus/tasd-t}
OUT=${PAPER_OUT:-report}
SIZE=${PAPER_SIZE:-256}
RUNS=${RUNS:-runs}
MODEL=${MODEL:-models/ildiff-default.safetensors}

if [ ! -d "$SAMPLES" ]; then
    [ -f "$CORPUS/manifest.jsonl" ] ||
        "$ILDIFF" dataset build --split test --cover --count 200 --seed 2024 --size "$SIZE" --out "$CORPUS" --quiet
    rm -rf "$SAMPLES.tmp"
    "$ILDIFF" dataset export --corpus "$CORPUS" --split test --out "$SAMPLES.tmp" >/dev/null
    mv "$SAMPLES.tmp" "$SAMPLES"
fi

methods="key,flood"
# row LABEL FILE: adds the model row when its file exists
row() { if [ -f "$2" ]; then methods="$methods,$1=model:$2"; else echo "paper.sh: no $2: row $1 left out" >&2; fi; }
row layerdiffusion "$RUNS/models/layerdiffusion.safetensors"
row ildiff-d0 "$RUNS/models/ildiff-d0.safetensors"
row ildiff-d3 "$RUNS/models/ildiff-d3.safetensors"
row ildiff-d5 "$MODEL"
row ildiff-d8 "$RUNS/models/ildiff-d8.safetensors"

corpus=""
[ -f "$CORPUS/manifest.jsonl" ] && corpus="--corpus $CORPUS"
exec "$ILDIFF" paper --samples "$SAMPLES" --out "$OUT" --threads 2 --methods "$methods" $corpus
