"""ref_pool.py: PyTorch reference for nearest x2 upsampling, average pooling and adaptive average pooling
(src/nn/pool.h): input, output and input gradient of L = sum(out * dout). Writes pool.bin.

Case i: "i.shape" = [op, N, C, H, W, a, b] with op 0 = upsample2x, 1 = avgpool (kernel = stride = a),
2 = adaptive_avgpool to (a, b); "i.x", "i.dout", "i.out", "i.dx"; "cases" = [count].
"""
import os

import torch

import fixture

F = torch.nn.functional
CASES = [
    (0, 2, 3, 5, 7, 0, 0),
    (0, 1, 2, 1, 1, 0, 0),
    (1, 2, 3, 8, 6, 2, 0),
    (1, 1, 2, 9, 10, 4, 0),
    (2, 2, 3, 7, 9, 3, 4),
    (2, 1, 2, 10, 10, 4, 4),
    (2, 1, 2, 5, 5, 7, 8),
    (2, 1, 1, 16, 16, 1, 1),
]


def make(outdir):
    g = torch.Generator().manual_seed(99)
    t = {"cases": torch.tensor([len(CASES)], dtype=torch.float32)}
    for i, (op, n, c, h, w, a, b) in enumerate(CASES):
        x = torch.randn((n, c, h, w), generator=g).requires_grad_()
        if op == 0:
            out = F.interpolate(x, scale_factor=2, mode="nearest")
        elif op == 1:
            out = F.avg_pool2d(x, a)
        else:
            out = F.adaptive_avg_pool2d(x, (a, b))
        dout = torch.randn(out.shape, generator=g)
        (out * dout).sum().backward()
        t.update({"%d.shape" % i: torch.tensor([op, n, c, h, w, a, b], dtype=torch.float32), "%d.x" % i: x,
                  "%d.dout" % i: dout, "%d.out" % i: out, "%d.dx" % i: x.grad})
    fixture.save(os.path.join(outdir, "pool.bin"), t)
