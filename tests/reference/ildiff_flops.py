"""ildiff_flops.py: parameter and FLOP counter for the models of ildiff_models.py, per 512x512 frame.

    /usr/bin/python3 tests/reference/ildiff_flops.py [--size 512] [--frames 16] [--markdown]

FLOP = 2 x multiply-accumulates of convolutions (2D, 3D, transposed none), linear layers and the two attention
matmuls (q k^T and a v); normalisations, activations, pooling and adds are left out (a few % at most). Counted by
running each model once on zeros at the stated size (forward hooks), so the numbers follow the code.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ildiff_models as M  # noqa: E402

_count = [0]


def _conv_hook(mod, inp, out):
    k = mod.weight[0].numel()                # Cin/groups * kernel volume
    _count[0] += 2 * out.numel() * k


def _linear_hook(mod, inp, out):
    _count[0] += 2 * out.numel() * mod.in_features


_mha = M.mha


def _counting_mha(q, k, v, heads):
    n, lq, c = q.shape
    _count[0] += 2 * 2 * n * lq * k.shape[1] * c   # q k^T and a v
    return _mha(q, k, v, heads)


def gflops(module, fn):
    """Runs fn() (which calls module) under the hooks; returns GFLOP."""
    hooks = []
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            hooks.append(m.register_forward_hook(_conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(_linear_hook))
    M.mha = _counting_mha
    _count[0] = 0
    try:
        with torch.no_grad():
            fn()
    finally:
        M.mha = _mha
        for h in hooks:
            h.remove()
    return _count[0] / 1e9


def table(size, frames):
    """Rows (part, params, GFLOP per frame, note) for the default configuration at size x size."""
    cfg = M.ILDiffConfig()
    s = size
    ls = cfg.student.img_size
    rows = []
    x = torch.zeros(1, 3, s, s)
    z = torch.zeros(1, 4, s // 8, s // 8)
    e = M.VaeEncoder(cfg.vae)
    rows.append(("VAE encoder E", e, gflops(e, lambda: e(x)), "frozen after S0; runs at inference"))
    d = M.VaeDecoder(cfg.vae)
    rows.append(("VAE decoder D", d, gflops(d, lambda: d(z)), "S0, harmlessness only"))
    oe = M.OffsetEncoder(M.OffsetConfig())
    rows.append(("offset encoder E_a", oe, gflops(oe, lambda: oe(torch.zeros(1, 4, s, s))), "S1 only"))
    dt = M.TransparentDecoder(cfg.decoder)
    rows.append(("transparent decoder D_T", dt, gflops(dt, lambda: dt(x, z)), "inference"))
    st = M.LayoutEncoder(cfg.student)
    xs = torch.zeros(1, 3, ls, ls)
    rows.append(("layout student (ViT + neck)", st, gflops(st, lambda: st(xs)),
                 "input %d^2 (frame area-resized), any frame size" % ls))
    sami = M.SamiDecoder(cfg.student, M.SamiConfig())
    L = (ls // cfg.student.patch) ** 2
    keep, mask = M.random_masking(1, L, M.SamiConfig().mask_ratio)
    rows.append(("SAMI decoder + student, masked", sami, gflops(sami, lambda: sami(st, xs, keep, mask)),
                 "S2 only (params: decoder + proj)"))
    te = M.LayoutTeacher(M.TeacherConfig())
    rows.append(("layout teacher", te, gflops(te, lambda: te(xs)), "S2 only, input %d^2" % ls))
    g = ls // cfg.student.patch
    f = torch.zeros(1, frames, cfg.student.out_dim, g, g)
    for depth in (0, 3, 5, 8):
        ta = M.TemporalAdapter(M.TemporalConfig(depth=depth))
        gf = gflops(ta, lambda: ta(f, (s // 8, s // 8))) / frames
        rows.append(("temporal adapter, depth %d" % depth, ta, gf, "grid %dx%d, T=%d" % (g, g, frames)))
    return cfg, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg, rows = table(a.size, a.frames)
    by = {r[0]: r for r in rows}
    path = ["VAE encoder E", "layout student (ViT + neck)", "temporal adapter, depth 5", "transparent decoder D_T"]
    total_p = sum(M.count_params(by[k][1]) for k in path)
    total_f = sum(by[k][2] for k in path)
    if a.markdown:
        print("| part | parameters | GFLOP / %dx%d frame | note |" % (a.size, a.size))
        print("|---|---:|---:|---|")
        for name, mod, gf, note in rows:
            print("| %s | %s | %.2f | %s |" % (name, format(M.count_params(mod), ","), gf, note))
        print("| **matting path** (E + student + temporal 5 + D_T) | %s | %.2f | per frame, TTA 1 |"
              % (format(total_p, ","), total_f))
    else:
        for name, mod, gf, note in rows:
            print("%-34s %11s params %8.2f GFLOP  %s" % (name, format(M.count_params(mod), ","), gf, note))
        print("%-34s %11s params %8.2f GFLOP  per frame" % ("matting path", format(total_p, ","), total_f))


if __name__ == "__main__":
    main()
