"""ref_ops_torch.py: times PyTorch on the cases of bench_ops (`bench_ops --list`), for comparison with our ops.

    /usr/bin/python3 bench/ref_ops_torch.py --bench build/bench/bench_ops [--threads 1,2] [--runs 5] \
        [--setting default|best|both] [--filter conv2d] [--clock wall|cpu] > torch.tsv

Cases of the kinds in ref_ops_torch_attn.KINDS are built by that module. Writes one line per case, thread count
and setting: "name<TAB>threads<TAB>setting<TAB>fwd_ms<TAB>fwdbwd_ms"
(medians of --runs runs after one warm-up), which `bench_ops --torch torch.tsv` reads.
  default: NCHW tensors, glibc malloc as it comes (PyTorch as people run it).
  best:    channels_last (channels_last_3d for 5D), and
           GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296 (the script
           re-runs itself with that environment, since glibc reads it at start-up).
Forward runs under no_grad; forward+backward computes the input, weight and bias gradients (set to None
between runs, as optimizer.zero_grad(set_to_none=True)). Kinds ending in "_bf16" run with bfloat16 tensors and
weights.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_ops_torch_attn  # noqa: E402  (the linear / attention / ViT-block kinds)

TUNABLES = "glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296"


def cases(bench, filt):
    out = subprocess.run([bench, "--list"], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 12 or (filt and filt not in f[0]):
            continue
        rows.append((f[0], f[1], *[int(v) for v in f[2:12]]))
    return rows


CLOCK = time.perf_counter


def median_ms(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t0 = CLOCK()
        fn()
        ts.append((CLOCK() - t0) * 1e3)
    return statistics.median(ts)


def time_case(torch, case, best, runs):
    name, kind, n, c, oc, d, h, w, k, stride, pad, g = case
    if kind in ref_ops_torch_attn.KINDS:
        fwd, fwdbwd = ref_ops_torch_attn.build(torch, case, best)
        return median_ms(fwd, runs), median_ms(fwdbwd, runs)
    dtype = torch.float32
    if kind.endswith("_bf16"):  # the same op with bfloat16 tensors and weights
        kind, dtype = kind[:-5], torch.bfloat16
    is3d = kind == "conv3d" or (kind == "groupnorm" and d > 1)
    shape = (n, c, d, h, w) if is3d else (n, c, h, w)
    fmt = (torch.channels_last_3d if is3d else torch.channels_last) if best else torch.contiguous_format
    x = torch.rand(shape).to(memory_format=fmt)
    if kind in ("conv2d", "conv3d"):
        mod = (torch.nn.Conv3d if kind == "conv3d" else torch.nn.Conv2d)(c, oc, k, stride=stride, padding=pad)
    elif kind == "groupnorm":
        mod = torch.nn.GroupNorm(g, c)
    else:
        raise ValueError(kind)
    if kind != "groupnorm":
        mod = mod.to(memory_format=fmt)
    x, mod = x.to(dtype), mod.to(dtype)
    with torch.no_grad():
        dy = torch.rand_like(mod(x))

    def fwd():
        with torch.no_grad():
            mod(x)

    xg = x.clone().requires_grad_()

    def fwdbwd():
        xg.grad = None
        for p in mod.parameters():
            p.grad = None
        mod(xg).backward(dy)

    return median_ms(fwd, runs), median_ms(fwdbwd, runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="path of the bench_ops binary (for --list)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--setting", default="both", choices=["default", "best", "both"])
    ap.add_argument("--filter", default=None)
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="cpu: the process's CPU time (time.process_time; autograd may run the backward on another "
                         "thread), for 1-thread runs on a busy machine")
    a = ap.parse_args()
    if a.clock == "cpu":
        if a.threads != "1":
            sys.exit("--clock cpu needs --threads 1")
        global CLOCK
        CLOCK = time.process_time
    if a.setting == "both":
        for s in ("default", "best"):
            sys.stdout.flush()
            subprocess.run([sys.executable] + [v for v in sys.argv if not v.startswith("--setting")] +
                           ["--setting", s], check=True)
        return
    if a.setting == "best" and os.environ.get("GLIBC_TUNABLES") != TUNABLES:
        env = dict(os.environ, GLIBC_TUNABLES=TUNABLES)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if a.setting == "default" and "GLIBC_TUNABLES" in os.environ:
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    import torch

    for t in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(t)
        ref_ops_torch_attn.set_blas_threads(t)  # OpenBLAS (nn.Linear, some conv backward paths) has its own count
        for case in cases(a.bench, a.filter):
            f, fb = time_case(torch, case, a.setting == "best", a.runs)
            print("%s\t%d\t%s\t%.3f\t%.3f" % (case[0], t, a.setting, f, fb), flush=True)


if __name__ == "__main__":
    main()
