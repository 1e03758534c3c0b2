"""ref_ops_torch_attn.py: PyTorch timings for the linear / attention / ViT-block cases of bench_ops (ops_attn.c).

Used two ways:
  - from ref_ops_torch.py: `build(torch, case, best)` returns (fwd, fwdbwd) callables for a case whose kind is in
    KINDS (case = the tuple ref_ops_torch.cases() yields), to be timed like the conv cases; call
    set_blas_threads(t) next to torch.set_num_threads(t) (see there);
  - on its own, writing the same TSV lines as ref_ops_torch.py for these kinds only:
        /usr/bin/python3 bench/ref_ops_torch_attn.py --bench build/bench/bench_ops [--threads 1,2] [--runs 5] \
            [--setting default|best|both] >> torch.tsv
The modules are what people run in torch 1.13 (no fused SDPA there): nn.Linear; SAM's / EfficientSAM's Attention
(qkv Linear, (q * scale) @ k^T, softmax, @ v, proj); SAM's cross Attention (q/k/v/out Linear); EfficientSAM's
pre-norm block (LayerNorm eps 1e-6, Attention, Mlp fc1 GELU fc2). "best" differs from "default" only by the
malloc tuning (token tensors have no channels_last form). Forward under no_grad; forward+backward also computes
the input and parameter gradients.
"""
import os
import sys

KINDS = ("linear", "mhsa", "xattn", "vitblock")


def set_blas_threads(n):
    """torch.set_num_threads does not reach OpenBLAS, which Debian's torch 1.13 calls for nn.Linear and matmul
    (it keeps one thread per core), so a "1 thread" PyTorch row would time 2-thread GEMMs. Sets OpenBLAS's own
    count; returns False if the library is not found."""
    import ctypes

    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            ctypes.CDLL(name).openblas_set_num_threads(int(n))
            return True
        except (OSError, AttributeError):
            continue
    return False


def _modules(torch):
    nn, F = torch.nn, torch.nn.functional

    def sdpa(q, k, v, nh):
        b, tq, c = q.shape
        tk, hd = k.shape[1], c // nh
        q = q.reshape(b, tq, nh, hd).transpose(1, 2)
        k = k.reshape(b, tk, nh, hd).transpose(1, 2)
        v = v.reshape(b, tk, nh, hd).transpose(1, 2)
        att = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return (att @ v).transpose(1, 2).reshape(b, tq, c)

    class Attention(nn.Module):
        def __init__(self, c, nh):
            super().__init__()
            self.nh, self.qkv, self.proj = nh, nn.Linear(c, 3 * c), nn.Linear(c, c)

        def forward(self, x):
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            return self.proj(sdpa(q, k, v, self.nh))

    class CrossAttention(nn.Module):
        def __init__(self, c, nh):
            super().__init__()
            self.nh = nh
            self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(c, c) for _ in range(4))

        def forward(self, q, kv):
            return self.out_proj(sdpa(self.q_proj(q), self.k_proj(kv), self.v_proj(kv), self.nh))

    class Block(nn.Module):
        def __init__(self, c, nh):
            super().__init__()
            self.norm1, self.attn = nn.LayerNorm(c, eps=1e-6), Attention(c, nh)
            self.norm2, self.fc1, self.fc2 = nn.LayerNorm(c, eps=1e-6), nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

    return Attention, CrossAttention, Block


def build(torch, case, best):
    """(fwd, fwdbwd) callables for one bench_ops case of a kind in KINDS."""
    name, kind, n, c, oc, d, h, w, k, stride, pad, g = case
    Attention, CrossAttention, Block = _modules(torch)
    if kind == "linear":
        mod, inputs = torch.nn.Linear(c, oc), [torch.rand(n, c)]
    elif kind == "mhsa":
        mod, inputs = Attention(c, oc), [torch.rand(n, h, c)]
    elif kind == "xattn":
        mod, inputs = CrossAttention(c, oc), [torch.rand(n, h, c), torch.rand(n, w, c)]
    elif kind == "vitblock":
        mod, inputs = Block(c, oc), [torch.rand(n, h, c)]
    else:
        raise ValueError(kind)
    with torch.no_grad():
        dy = torch.rand_like(mod(*inputs))
    grads_in = [x.clone().requires_grad_() for x in inputs]

    def fwd():
        with torch.no_grad():
            mod(*inputs)

    def fwdbwd():
        for x in grads_in:
            x.grad = None
        for p in mod.parameters():
            p.grad = None
        mod(*grads_in).backward(dy)

    return fwd, fwdbwd


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import ref_ops_torch as base  # the shared case list, timing, settings and malloc re-exec

    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--setting", default="both", choices=["default", "best", "both"])
    ap.add_argument("--filter", default=None)
    a = ap.parse_args()
    if a.setting == "both":
        import subprocess

        args, skip = [], False
        for v in sys.argv:  # drop "--setting X" and "--setting=X"
            if skip or v.startswith("--setting"):
                skip = v == "--setting"
                continue
            args.append(v)
        for s in ("default", "best"):
            sys.stdout.flush()
            subprocess.run([sys.executable] + args + ["--setting", s], check=True)
        return
    if a.setting == "best" and os.environ.get("GLIBC_TUNABLES") != base.TUNABLES:
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, GLIBC_TUNABLES=base.TUNABLES))
    if a.setting == "default" and "GLIBC_TUNABLES" in os.environ:
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    import torch

    for t in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(t)
        set_blas_threads(t)
        for case in base.cases(a.bench, a.filter):
            if case[1] not in KINDS:
                continue
            f, fb = build(torch, case, a.setting == "best")
            print("%s\t%d\t%s\t%.3f\t%.3f" % (case[0], t, a.setting, base.median_ms(f, a.runs),
                                              base.median_ms(fb, a.runs)), flush=True)


if __name__ == "__main__":
    main()
