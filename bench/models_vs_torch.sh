#!/bin/bash
# models_vs_torch.sh: the whole matting model, ours (bench_models --model) against the PyTorch reference with the
# same weights (bench/ref_models_torch.py), back to back on the same machine, for issue 5's speed bar: inference
# and a training step at least 1.5x faster than PyTorch as people run it ("default") and no slower than its best
# setting ("best"; both defined in ref_models_torch.py). Prints a Markdown table (per part, the matting path, the
# S3 training step), the parity of the two implementations on a sticker-like clip, and one last line:
#   models: inference speedup vs pytorch-default X.XX, vs pytorch-best Y.YY; train step vs default A.AA, vs best B.BB
# (inference = the matting path on FRAMES frames; speedup = PyTorch ms / our ms; "vs best" is against the faster
# of PyTorch's two settings, as bench_ops does).
#
#     bench/models_vs_torch.sh [MODEL] [THREADS] [RUNS] [SIZE] [FRAMES]
#         defaults: models/ildiff-default.safetensors 2 3 512 16
#
# Environment: BUILD (build folder, default build; needs `make BUILD=... benches`), CLOCK=wall|cpu (which of the
# two times both sides record goes into the table; default wall; cpu = process CPU time, for 1 thread on a busy
# machine), TRAIN_SIZE (the training step's frame size, default 256; 0 skips the step), OMP_WAIT_POLICY (default
# passive, as bench/run.sh, for both sides). Our side runs first, then PyTorch default, then PyTorch best.
set -eu
cd "$(dirname "$0")/.."
MODEL=${1:-models/ildiff-default.safetensors}
THREADS=${2:-2}
RUNS=${3:-3}
SIZE=${4:-512}
FRAMES=${5:-16}
BUILD=${BUILD:-build}
CLOCK=${CLOCK:-wall}
TRAIN_SIZE=${TRAIN_SIZE:-256}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
PY=/usr/bin/python3
BENCH=$BUILD/bench/bench_models
[ -x "$BENCH" ] || { echo "models_vs_torch.sh: $BENCH missing: make BUILD=$BUILD benches" >&2; exit 1; }
[ -r "$MODEL" ] || { echo "models_vs_torch.sh: $MODEL: no such model file" >&2; exit 1; }
case $CLOCK in wall) col=3 ;; cpu) col=4 ;; *) echo "models_vs_torch.sh: CLOCK is wall or cpu" >&2; exit 2 ;; esac
for v in "$THREADS" "$RUNS" "$SIZE" "$FRAMES" "$TRAIN_SIZE"; do
    case $v in
    '' | *[!0-9]*) echo "usage: bench/models_vs_torch.sh [MODEL] [THREADS] [RUNS] [SIZE] [FRAMES]" >&2; exit 2 ;;
    esac
done
if [ "$TRAIN_SIZE" = 0 ]; then c_train=(--no-train) py_train=(--no-train); else
    c_train=(--train-size "$TRAIN_SIZE") py_train=(--train-size "$TRAIN_SIZE"); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
common=(--threads "$THREADS" --runs "$RUNS" --size "$SIZE" --frames "$FRAMES")

echo "## models vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; load before: $(load)"
echo "- model: $MODEL; $THREADS threads, median of $RUNS runs, $FRAMES frames of ${SIZE}x$SIZE, training step"
echo "  2 x 8 frames of ${TRAIN_SIZE}x$TRAIN_SIZE; clock: $CLOCK; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "- commands:"
echo "  - \`$BENCH --model $MODEL --dump-alpha DUMP --size $SIZE --frames $FRAMES\`"
echo "  - \`$PY bench/ref_models_torch.py --model $MODEL --parity DUMP --size $SIZE --frames $FRAMES\`"
echo "  - \`$BENCH --model $MODEL ${common[*]} ${c_train[*]} --tsv c.tsv\`"
echo "  - \`$PY bench/ref_models_torch.py --model $MODEL ${common[*]} ${py_train[*]} --clock $CLOCK > torch.tsv\`"
echo

"$BENCH" --model "$MODEL" --dump-alpha "$tmp/dump.f32" --size "$SIZE" --frames "$FRAMES" --threads "$THREADS"
parity=$("$PY" bench/ref_models_torch.py --model "$MODEL" --parity "$tmp/dump.f32" --size "$SIZE" --frames "$FRAMES" \
    --threads "$THREADS")
rm -f "$tmp/dump.f32"
echo "== ours ($(load))" >&2
"$BENCH" --model "$MODEL" "${common[@]}" "${c_train[@]}" --tsv "$tmp/c.tsv" >&2
echo "== PyTorch ($(load))" >&2
"$PY" bench/ref_models_torch.py --model "$MODEL" "${common[@]}" "${py_train[@]}" --clock "$CLOCK" >"$tmp/torch.tsv"

cat "$tmp/c.tsv" "$tmp/torch.tsv" | awk -F'\t' -v col="$col" -v frames="$FRAMES" -v size="$SIZE" \
    -v ts="$TRAIN_SIZE" -v parity="$parity" '
    { t[$1, $2] = $col; if ($2 == "torch-best") lay[$1] = $5 }
    function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", b / a) : "n/a" }
    function fmt(v) { return v == "" ? "-" : sprintf("%.1f", v) }
    function row(part, label,    c, d, b, best) {
        c = t[part, "c"]; d = t[part, "torch-default"]; b = t[part, "torch-best"]
        if (c == "" && d == "") return
        best = (d != "" && (b == "" || d + 0 < b + 0)) ? d : b   # the faster PyTorch setting
        printf "| %s | %s | %s | %s | %s | %s |\n", label, fmt(c), fmt(d), fmt(b) (b == "" ? "" : " (" lay[part] ")"),
            ratio(c, d), ratio(c, best)
        sd[part] = ratio(c, d); sb[part] = ratio(c, best)
    }
    END {
        print "| part | ours ms | PyTorch default ms | PyTorch best ms (layout) | speedup vs default | vs best |"
        print "|---|---|---|---|---|---|"
        row("vae_encoder", "VAE encoder, per " size "x" size " frame")
        row("student", "student, per frame")
        row("temporal", "temporal adapter, per " frames "-frame clip")
        row("decoder", "D_T, per " size "x" size " frame")
        row("path", "**matting path, " frames " frames " size "x" size "**")
        row("train_step", "**S3 training step, 2 x 8 frames " ts "x" ts "**")
        print ""
        print parity
        print ""
        printf "models: inference speedup vs pytorch-default %s, vs pytorch-best %s; " \
            "train step vs default %s, vs best %s\n",
            sd["path"] == "" ? "n/a" : sd["path"], sb["path"] == "" ? "n/a" : sb["path"],
            sd["train_step"] == "" ? "n/a" : sd["train_step"], sb["train_step"] == "" ? "n/a" : sb["train_step"]
    }'
echo
echo "(ours: frames one at a time, as ildiff matte runs them; PyTorch: ILDiff.forward on the whole clip. Parts are"
echo "per frame at batch 1. load after: $(load))"
