"""ref_norm.py: PyTorch reference for GroupNorm, LayerNorm (last dim) and LayerNorm2d (over channels, as in
SAM's neck) (src/nn/norm.h): input, affine weights, output and every gradient of L = sum(out * dout).
Writes groupnorm.bin, layernorm.bin, layernorm2d.bin.

Case i: "i.shape" = [N, C, S, G, eps, affine] (groupnorm), [M, C, eps, affine] (layernorm),
[N, C, S, eps, affine] (layernorm2d); "i.x", "i.w", "i.b" (when affine), "i.dout", "i.out", "i.dx", "i.dw",
"i.db" (when affine); "cases" = [count].
"""
import os

import torch

import fixture


def layernorm2d(x, w, b, eps):
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    y = (x - u) / torch.sqrt(s + eps)
    if w is not None:
        y = w[:, None, None] * y + b[:, None, None]
    return y


def run(i, x, fn, c, affine, g, shape):
    x = x.requires_grad_()
    w = (torch.randn(c, generator=g) * 0.5 + 1).requires_grad_() if affine else None
    b = torch.randn(c, generator=g).requires_grad_() if affine else None
    out = fn(x, w, b)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t = {"%d.shape" % i: torch.tensor(shape, dtype=torch.float32), "%d.x" % i: x, "%d.dout" % i: dout,
         "%d.out" % i: out, "%d.dx" % i: x.grad}
    if affine:
        t.update({"%d.w" % i: w, "%d.b" % i: b, "%d.dw" % i: w.grad, "%d.db" % i: b.grad})
    return t


def make(outdir):
    g = torch.Generator().manual_seed(2024)
    F = torch.nn.functional
    # (x shape, groups, eps, affine)
    gn = [((2, 64, 5, 7), 32, 1e-5, 1), ((2, 6, 3, 4), 1, 1e-5, 1), ((1, 32, 4, 3, 5), 8, 1e-6, 1),
          ((3, 8, 9, 1), 4, 1e-5, 0), ((1, 64, 6, 6), 32, 1e-5, 1)]
    t = {"cases": torch.tensor([len(gn)], dtype=torch.float32)}
    for i, (xs, groups, eps, affine) in enumerate(gn):
        x = torch.randn(xs, generator=g) * 2 + 0.5
        s = 1
        for d in xs[2:]:
            s *= d
        t.update(run(i, x, lambda a, w, b: F.group_norm(a, groups, w, b, eps), xs[1], affine, g,
                     [xs[0], xs[1], s, groups, eps, affine]))
    fixture.save(os.path.join(outdir, "groupnorm.bin"), t)

    ln = [((7, 33), 1e-5, 1), ((2, 5, 64), 1e-6, 1), ((4, 130), 1e-5, 0)]
    t = {"cases": torch.tensor([len(ln)], dtype=torch.float32)}
    for i, (xs, eps, affine) in enumerate(ln):
        x = torch.randn(xs, generator=g) * 2 - 0.3
        m = 1
        for d in xs[:-1]:
            m *= d
        t.update(run(i, x, lambda a, w, b: F.layer_norm(a, (xs[-1],), w, b, eps), xs[-1], affine, g,
                     [m, xs[-1], eps, affine]))
    fixture.save(os.path.join(outdir, "layernorm.bin"), t)

    l2 = [((2, 16, 5, 6), 1e-6, 1), ((1, 7, 9, 11), 1e-6, 1), ((1, 5, 70, 1), 1e-5, 0)]
    t = {"cases": torch.tensor([len(l2)], dtype=torch.float32)}
    for i, (xs, eps, affine) in enumerate(l2):
        x = torch.randn(xs, generator=g) * 1.5 + 0.2
        t.update(run(i, x, lambda a, w, b: layernorm2d(a, w, b, eps), xs[1], affine, g,
                     [xs[0], xs[1], xs[2] * xs[3], eps, affine]))
    fixture.save(os.path.join(outdir, "layernorm2d.bin"), t)
