#!/bin/bash
# run.sh: `make bench`: runs every benchmark once and appends a dated results block to bench/RESULTS.md:
#   1. bench_ops against PyTorch in the same run (bench/ref_ops_torch.py on the same cases, then bench_ops --torch),
#      1 thread, timed by process CPU time (the machine is shared; see RESULTS.md), ending with issue 3's line
#      `ops: min speedup vs pytorch-best X.XX, vs pytorch-default Y.YY, min conv fraction of peak Z.ZZ`;
#   2. bench_models: the matting path on a 16-frame 512x512 clip with 2 threads (issue 5's speed bar) and with 1
#      thread (CPU time, the honest number under load), the S3 training step, and the peak memory of a 32-frame
#      512x512 inference plan (issue 5's memory bar). The model runs use OMP_WAIT_POLICY=passive (unless set):
#      with libgomp's default spinning, 2 threads on a loaded 2-core machine ran 10x slower (bench/NOTES.md);
#   3. bench_dist.sh (data-parallel throughput, skipped without mpirun).
# The block holds the date, `lscpu`'s model name, the load average before and after, and the commands.
#
#     bench/run.sh [--quick] [--no-torch]      (BUILD=folder from the environment or `make BUILD=...`, default build)
#
# --quick (or BENCH_QUICK=1): only the ops cases whose name contains "c64", 3 runs, no training step, one run of
# each model timing: about 2 minutes. The full run takes about 6-9 minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
TORCH=1
for arg in "$@"; do
    case $arg in
    --quick) QUICK=1 ;;
    --no-torch) TORCH=0 ;;
    *) echo "usage: bench/run.sh [--quick] [--no-torch]" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
OPS=$BUILD/bench/bench_ops
MODELS=$BUILD/bench/bench_models
for bin in "$OPS" "$MODELS"; do
    [ -x "$bin" ] || { echo "run.sh: $bin missing: make BUILD=$BUILD benches" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
lscpu_field() { lscpu | sed -n "s/^$1: *//p" | head -1; }
cpu="$(lscpu_field 'Model name') (family $(lscpu_field 'CPU family') model $(lscpu_field 'Model'))"

if [ "$QUICK" = 1 ]; then
    ops_args=(--threads 1 --runs 3 --clock cpu --filter c64) runs=1 train=(--no-train)
else
    ops_args=(--threads 1 --runs 5 --clock cpu) runs=3 train=()
fi
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(load)
{
    echo "## make bench, $started$([ "$QUICK" = 1 ] && echo ' (--quick)')"
    echo
    echo "- machine: $cpu, $(nproc) cores; build folder $BUILD"
    echo "- load average before: $load_before"
    echo "- command: \`bench/run.sh $*\` (BUILD=$BUILD)"
    echo
} >"$tmp/block.md"

echo "== ops ($(load))" >&2
{
    echo "### ops (1 thread, process CPU time; load at start $(load))"
    echo
    echo '```'
    if [ "$TORCH" = 1 ]; then
        echo "\$ $PY bench/ref_ops_torch.py --bench $OPS ${ops_args[*]} > torch.tsv"
        echo "\$ $OPS ${ops_args[*]} --torch torch.tsv"
    else
        echo "\$ $OPS ${ops_args[*]}"
    fi
} >>"$tmp/block.md"
if [ "$TORCH" = 1 ]; then
    "$PY" bench/ref_ops_torch.py --bench "$OPS" "${ops_args[@]}" >"$tmp/torch.tsv"
    "$OPS" "${ops_args[@]}" --torch "$tmp/torch.tsv" | tee "$tmp/ops.txt" >&2
else
    "$OPS" "${ops_args[@]}" | tee "$tmp/ops.txt" >&2
fi
{
    cat "$tmp/ops.txt"
    echo '```'
    echo
} >>"$tmp/block.md"

run_models() { # title, then bench_models arguments
    local title=$1
    shift
    echo "== models: $title ($(load))" >&2
    {
        echo "### models: $title (load at start $(load))"
        echo
        echo '```'
        echo "\$ OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} $MODELS $*"
    } >>"$tmp/block.md"
    OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} "$MODELS" "$@" | tee -a "$tmp/block.md" >&2
    {
        echo '```'
        echo
    } >>"$tmp/block.md"
}
run_models "16 frames 512x512, 2 threads (wall clock: the bar)" --threads 2 --runs "$runs" "${train[@]}"
run_models "16 frames 512x512, 1 thread (CPU time)" --threads 1 --runs "$runs" --no-train
run_models "peak memory, 32 frames 512x512" --threads 1 --runs 1 --frames 32 --no-train

if command -v mpirun >/dev/null; then
    echo "== dist ($(load))" >&2
    {
        echo "### data-parallel (bench/bench_dist.sh)"
        echo
    } >>"$tmp/block.md"
    bench/bench_dist.sh "$BUILD" | tee -a "$tmp/block.md" >&2
    echo >>"$tmp/block.md"
else
    echo "(bench_dist.sh skipped: no mpirun)" | tee -a "$tmp/block.md" >&2
fi

{
    echo "- load average after: $(load); finished $(date -u '+%H:%M UTC')"
    echo
} >>"$tmp/block.md"
{
    echo
    cat "$tmp/block.md"
} >>bench/RESULTS.md
echo "run.sh: results appended to bench/RESULTS.md" >&2
grep -h '^ops:' "$tmp/ops.txt" || true
