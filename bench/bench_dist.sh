#!/bin/bash
# bench_dist.sh: data-parallel throughput of the toy task (bench/bench_dist.c) with 1 and 2 ranks, one thread
# per rank, on the toy net alone (3 KB of gradients) and with a 4 MiB dummy parameter (a small real model's
# gradient size); prints a markdown table (samples/s, step time, idle time waiting for the slowest rank, the
# all-reduce time and its share of the step) with the date, machine and load, for bench/RESULTS_dist.md.
# Usage: bench/bench_dist.sh [BUILD folder, default build] (builds its benches first). Runs for ~10 s.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
make -s BUILD="$BUILD" -j2 "$BUILD/bench/bench_dist" >/dev/null
MPIRUN=(timeout 120 mpirun --oversubscribe --allow-run-as-root --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo -x OMP_NUM_THREADS=1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $cpu; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/bench_dist.sh $BUILD ($(mpirun --version | head -1))"
echo
echo "| ranks | gradient MB | global batch | samples/s | step ms | idle ms | all-reduce ms | all-reduce share |"
echo "|---|---|---|---|---|---|---|---|"
for extra in 0 1048576; do
    for np in 1 2; do
        line=$("${MPIRUN[@]}" -np "$np" "$BUILD/bench/bench_dist" --batch 64 --steps 40 --extra "$extra")
        # ranks R threads T batch B steps S grad_MB G samples/s X step_ms Y idle_ms I allreduce_ms A share P
        set -- $line
        echo "| $2 | ${10} | $6 | ${12} | ${14} | ${16} | ${18} | ${20} |"
    done
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
