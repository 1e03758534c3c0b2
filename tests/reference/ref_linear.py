"""ref_linear.py: PyTorch reference for the linear layer (src/nn/linear.h): y = x W^T + b and every gradient of
L = sum(y * dout). Writes linear.bin.

Case i: "i.shape" = [N, IN, OUT, bias], "i.x", "i.w", "i.b" (when bias), "i.dout", "i.out", "i.dx", "i.dw",
"i.db" (when bias); "cases" = [count].
"""
import os

import torch

import fixture

# N, IN, OUT, bias
SHAPES = [(5, 7, 3, 1), (16, 64, 192, 1), (3, 10, 1, 0), (33, 17, 40, 1)]


def make(outdir):
    g = torch.Generator().manual_seed(311)
    t = {"cases": torch.tensor([len(SHAPES)], dtype=torch.float32)}
    for i, (n, fin, fout, bias) in enumerate(SHAPES):
        x = torch.randn(n, fin, generator=g, requires_grad=True)
        w = (torch.randn(fout, fin, generator=g) / fin ** 0.5).requires_grad_()
        b = torch.randn(fout, generator=g).requires_grad_() if bias else None
        out = torch.nn.functional.linear(x, w, b)
        dout = torch.randn(out.shape, generator=g)
        (out * dout).sum().backward()
        t.update({"%d.shape" % i: torch.tensor([n, fin, fout, bias], dtype=torch.float32), "%d.x" % i: x,
                  "%d.w" % i: w, "%d.dout" % i: dout, "%d.out" % i: out, "%d.dx" % i: x.grad, "%d.dw" % i: w.grad})
        if bias:
            t["%d.b" % i] = b
            t["%d.db" % i] = b.grad
    fixture.save(os.path.join(outdir, "linear.bin"), t)
