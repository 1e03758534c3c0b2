"""ref_conv.py: PyTorch reference for conv2d and conv3d (src/nn/conv.h): inputs, weights, outputs and every
gradient of L = sum(out * dout) for a few shapes each (odd sizes, stride 2, padding 0/1/2, k = 1/3/5, 3x3x3 over
T = 4..8 frames). Writes conv2d.bin and conv3d.bin.

Case i is stored as tensors "i.shape" = [N, C, OC, D, H, W, K, stride, pad, bias], "i.x", "i.w", "i.b" (when
bias), "i.dout", "i.out", "i.dx", "i.dw", "i.db" (when bias); "cases" = [count].
"""
import os

import torch

import fixture

# N, C, OC, D, H, W, K, stride, pad, bias
CONV2D = [
    (2, 3, 5, 1, 7, 9, 3, 1, 1, 1),
    (2, 4, 6, 1, 8, 8, 3, 2, 1, 1),
    (1, 5, 4, 1, 9, 7, 1, 1, 0, 1),
    (2, 3, 4, 1, 11, 10, 5, 1, 2, 1),
    (1, 16, 32, 1, 10, 10, 3, 1, 1, 0),
    (2, 8, 8, 1, 9, 9, 3, 2, 0, 1),
    (1, 17, 33, 1, 6, 5, 1, 2, 0, 1),
    (1, 32, 16, 1, 7, 7, 3, 1, 1, 1),
]
CONV3D = [
    (1, 4, 6, 4, 6, 6, 3, 1, 1, 1),
    (2, 16, 16, 8, 5, 5, 3, 1, 1, 1),
    (1, 3, 5, 5, 7, 4, 3, 1, 0, 0),
    (1, 8, 4, 6, 4, 5, 3, 1, 1, 1),
]


def case(i, shape, is3d, g):
    n, c, oc, d, h, w, k, s, p, bias = shape
    xs = (n, c, d, h, w) if is3d else (n, c, h, w)
    ws = (oc, c, k, k, k) if is3d else (oc, c, k, k)
    x = torch.randn(xs, generator=g, requires_grad=True)
    wt = (torch.randn(ws, generator=g) / (c * k ** (3 if is3d else 2)) ** 0.5).requires_grad_()
    b = torch.randn(oc, generator=g).requires_grad_() if bias else None
    f = torch.nn.functional.conv3d if is3d else torch.nn.functional.conv2d
    out = f(x, wt, b, stride=s, padding=p)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t = {
        "%d.shape" % i: torch.tensor(shape, dtype=torch.float32),
        "%d.x" % i: x,
        "%d.w" % i: wt,
        "%d.dout" % i: dout,
        "%d.out" % i: out,
        "%d.dx" % i: x.grad,
        "%d.dw" % i: wt.grad,
    }
    if bias:
        t["%d.b" % i] = b
        t["%d.db" % i] = b.grad
    return t


def make(outdir):
    for name, shapes, is3d in (("conv2d", CONV2D, False), ("conv3d", CONV3D, True)):
        g = torch.Generator().manual_seed(1234 + is3d)
        t = {"cases": torch.tensor([len(shapes)], dtype=torch.float32)}
        for i, shape in enumerate(shapes):
            t.update(case(i, shape, is3d, g))
        fixture.save(os.path.join(outdir, name + ".bin"), t)
