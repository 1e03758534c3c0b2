"""ref_blocks.py: PyTorch reference for whole blocks built from the conv/norm/activation ops: forward output and
the gradients of the input and of every parameter for L = sum(out * dout). Parameters are named as in the
modules' state dict, gradients "grad.<name>". Writes:

resblock.bin: case i ("i." prefix) = the ResNet block GroupNorm-SiLU-Conv3x3-GroupNorm-SiLU-Conv3x3 + skip
  (a 1x1 conv when channels change), "i.shape" = [N, Cin, Cout, H, W, groups];
conv3d_stack.bin: Conv3d 3x3x3 (pad 1) - GroupNorm - ReLU, depth 3, "shape" = [N, C, T, H, W, groups, depth]
  with parameters "layers.<j>.conv.*", "layers.<j>.norm.*".
Both: "x", "dout", "out", "dx" (with the prefix); resblock also "cases".
"""
import os

import torch
from torch import nn

import fixture


class ResBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        h = self.conv2(nn.functional.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class Layer3d(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.conv = nn.Conv3d(c, c, 3, padding=1)
        self.norm = nn.GroupNorm(groups, c)

    def forward(self, x):
        return torch.relu(self.norm(self.conv(x)))


class Stack3d(nn.Module):
    def __init__(self, c, groups, depth):
        super().__init__()
        self.layers = nn.ModuleList([Layer3d(c, groups) for _ in range(depth)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def dump(model, x, g, prefix):
    with torch.no_grad():  # non-trivial affine parameters
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3 + (1.0 if name.endswith("weight") else 0.0))
    x = x.requires_grad_()
    out = model(x)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t = {prefix + "x": x, prefix + "dout": dout, prefix + "out": out, prefix + "dx": x.grad}
    for name, p in model.named_parameters():
        t[prefix + name] = p
        t[prefix + "grad." + name] = p.grad
    return t


def make(outdir):
    torch.manual_seed(77)
    g = torch.Generator().manual_seed(78)
    cases = [(2, 32, 64, 7, 5, 16), (1, 32, 32, 6, 6, 32)]
    t = {"cases": torch.tensor([len(cases)], dtype=torch.float32)}
    for i, (n, cin, cout, h, w, groups) in enumerate(cases):
        x = torch.randn((n, cin, h, w), generator=g)
        t.update(dump(ResBlock(cin, cout, groups), x, g, "%d." % i))
        t["%d.shape" % i] = torch.tensor([n, cin, cout, h, w, groups], dtype=torch.float32)
    fixture.save(os.path.join(outdir, "resblock.bin"), t)

    n, c, tt, h, w, groups, depth = 1, 16, 5, 4, 6, 8, 3
    x = torch.randn((n, c, tt, h, w), generator=g)
    t = dump(Stack3d(c, groups, depth), x, g, "")
    t["shape"] = torch.tensor([n, c, tt, h, w, groups, depth], dtype=torch.float32)
    fixture.save(os.path.join(outdir, "conv3d_stack.bin"), t)
