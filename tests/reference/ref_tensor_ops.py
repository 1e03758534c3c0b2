"""ref_tensor_ops.py: PyTorch reference for concat/slice along channels, add/mul/scale, flip and rot90
(src/nn/tensor_ops.h): inputs, outputs and input gradients of L = sum(out * dout). Writes tensor_ops.bin with
tensors named "<op>.<what>":
  concat: a (2,3,4,5), b (2,5,4,5), c (2,1,4,5) -> out; da, db, dc
  slice:  x (2,8,3,4), channels [2, 6) -> out; dx
  add, mul: a, b (50) -> out; da, db.  scale: a (50), s = -1.75 -> out; da
  flip_h, flip_w, flip_hw: x (2,3,5,7) -> out; dx.  rot1, rot2, rot3: torch.rot90(x, k, (2, 3)) -> out; dx
Every op has its own "dout".
"""
import os

import torch

import fixture


def grads(name, fn, inputs, g, t):
    ins = [v.clone().requires_grad_() for v in inputs]
    out = fn(*ins)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t[name + ".out"] = out
    t[name + ".dout"] = dout
    return [v.grad for v in ins]


def make(outdir):
    g = torch.Generator().manual_seed(5)
    r = lambda *s: torch.randn(s, generator=g)
    t = {}
    a, b, c = r(2, 3, 4, 5), r(2, 5, 4, 5), r(2, 1, 4, 5)
    da, db, dc = grads("concat", lambda p, q, s: torch.cat([p, q, s], 1), [a, b, c], g, t)
    t.update({"concat.a": a, "concat.b": b, "concat.c": c, "concat.da": da, "concat.db": db, "concat.dc": dc})
    x = r(2, 8, 3, 4)
    (dx,) = grads("slice", lambda v: v[:, 2:6], [x], g, t)
    t.update({"slice.x": x, "slice.dx": dx})
    a, b = r(50), r(50)
    for name, fn in (("add", torch.add), ("mul", torch.mul)):
        da, db = grads(name, fn, [a, b], g, t)
        t.update({name + ".a": a, name + ".b": b, name + ".da": da, name + ".db": db})
    (da,) = grads("scale", lambda v: v * -1.75, [a], g, t)
    t.update({"scale.a": a, "scale.da": da})
    x = r(2, 3, 5, 7)
    for name, dims in (("flip_h", [2]), ("flip_w", [3]), ("flip_hw", [2, 3])):
        (dx,) = grads(name, lambda v: torch.flip(v, dims), [x], g, t)
        t.update({name + ".x": x, name + ".dx": dx})
    for k in (1, 2, 3):
        (dx,) = grads("rot%d" % k, lambda v: torch.rot90(v, k, (2, 3)), [x], g, t)
        t.update({"rot%d.x" % k: x, "rot%d.dx" % k: dx})
    fixture.save(os.path.join(outdir, "tensor_ops.bin"), t)
