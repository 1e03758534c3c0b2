"""ref_act.py: PyTorch reference for the activations (src/nn/act.h): on one input spanning [-8, 8] (and 0),
each activation's output and input gradient for a random upstream gradient. Writes act.bin with "x", "dout",
and "<name>.out", "<name>.dx" for name in relu, silu, gelu, sigmoid, tanh.
"""
import os

import torch

import fixture


def make(outdir):
    g = torch.Generator().manual_seed(7)
    x = torch.cat([torch.linspace(-8, 8, 161), torch.randn(96, generator=g) * 3, torch.zeros(1)])
    dout = torch.randn(x.shape, generator=g)
    fns = {"relu": torch.relu, "silu": torch.nn.functional.silu, "gelu": torch.nn.functional.gelu,
           "sigmoid": torch.sigmoid, "tanh": torch.tanh}
    t = {"x": x, "dout": dout}
    for name, fn in fns.items():
        xi = x.clone().requires_grad_()
        out = fn(xi)
        (out * dout).sum().backward()
        t[name + ".out"] = out
        t[name + ".dx"] = xi.grad
    fixture.save(os.path.join(outdir, "act.bin"), t)
