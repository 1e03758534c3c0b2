#!/bin/sh
# train_default.sh: the recipe of the shipped default model (models/README.md, "Budget recipe"): every stage
# S0 -> S1 (128^2, then 256^2) -> S2a -> S2b -> S3 at temporal depth 5, and the S3 ablation at depths 0, 3, 8
# with the same budget. Resumable: run it again after an interruption; a finished stage (its model.safetensors
# exists) is skipped, an interrupted one continues from its last checkpoint with --resume.
#
# Usage: scripts/train_default.sh [CORPUS] [RUNS]   (defaults: corpus/train, runs)
#   CORPUS is a training corpus from scripts/build_corpus.sh (its val split beside it, corpus/val).
#   THREADS (default 2) sets the engine threads; STAGES (default "all") may name a subset, e.g. "S0 S1a".
set -eu
cd "$(dirname "$0")/.."
CORPUS=${1:-corpus/train}
RUNS=${2:-runs}
THREADS=${THREADS:-2}
STAGES=${STAGES:-all}
ILDIFF=${ILDIFF:-build/ildiff}
mkdir -p "$RUNS"

# stage NAME ARGS...: runs `ildiff train ARGS` into RUNS/NAME unless it already finished.
stage() {
    name=$1
    shift
    case " $STAGES " in *" all "* | *" $name "*) ;; *) return 0 ;; esac
    dir="$RUNS/$name"
    if [ -f "$dir/model.safetensors" ]; then
        echo "train_default: $name done ($dir/model.safetensors)"
        return 0
    fi
    resume=""
    [ -f "$dir/latest" ] && resume="--resume"
    echo "train_default: $name: ildiff train $* --out $dir $resume"
    "$ILDIFF" train --corpus "$CORPUS" --out "$dir" --threads "$THREADS" --seed 1 $resume "$@"
}

stage S0 --stage S0 --size 128 --batch 8 --steps 2000 --warmup 100 --val-every 250 --ckpt-every 250
stage S1a --stage S1 --size 128 --batch 8 --steps 3500 --warmup 200 --val-every 250 --ckpt-every 250 \
    --init "$RUNS/S0/model.safetensors"
stage S1 --stage S1 --size 256 --batch 8 --steps 900 --warmup 50 --lr 3e-4 --val-every 100 --ckpt-every 100 \
    --init "$RUNS/S1a/model.safetensors"
stage S2a --stage S2a --size 256 --batch 8 --steps 600 --warmup 50 --val-every 200 --ckpt-every 200
stage S2b --stage S2b --batch 16 --steps 800 --warmup 50 --val-every 200 --ckpt-every 200 \
    --init "$RUNS/S2a/model.safetensors"
for depth in 5 0 3 8; do
    stage "S3-d$depth" --stage S3 --size 128 --frames 8 --batch 2 --steps 500 --warmup 50 --depth "$depth" \
        --val-every 100 --ckpt-every 100 --init "$RUNS/S1/model.safetensors" --init "$RUNS/S2b/model.safetensors"
done

# The model files `ildiff matte` and scripts/paper.sh read: the paper's Layer Diffusion row (S1's decoder, no
# adapter), the ablation depths, and the shipped default (depth 5).
mkdir -p "$RUNS/models"
pack() {
    out=$1
    shift
    for f in "$@"; do case $f in *.safetensors) [ -f "$f" ] || return 0 ;; esac; done
    "$ILDIFF" model pack -y -o "$out" "$@"
}
pack "$RUNS/models/layerdiffusion.safetensors" --no-adapter --from "$RUNS/S1/model.safetensors" \
    --from "$RUNS/S2b/model.safetensors"
for depth in 0 3 5 8; do
    pack "$RUNS/models/ildiff-d$depth.safetensors" --from "$RUNS/S3-d$depth/model.safetensors"
done
[ -f "$RUNS/models/ildiff-d5.safetensors" ] && cp "$RUNS/models/ildiff-d5.safetensors" models/ildiff-default.safetensors
echo "train_default: done; the default model is models/ildiff-default.safetensors"
