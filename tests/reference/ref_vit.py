"""ref_vit.py: PyTorch reference for the ViT ops (src/nn/vit_ops.h) and two whole blocks built from the engine's
ops. Writes vit.bin. Every gradient is of L = sum(out * dout).

patch.i.*: patch embedding, nn.Conv2d(CI, D, P, stride=P) flattened to tokens (B, HP*WP, D);
  shape = [B, CI, H, W, P, D], img, w, b, dout, out, dimg, dw, db.
bicubic.i.*: F.interpolate(mode='bicubic', align_corners=False) of a channels-last (HI, WI, C) grid to (HO, WO);
  shape = [HI, WI, C, HO, WO], x, dout, out, dx.
gather.*: out = x[b, idx[b, i]]; x (B, T, C), idx (B, K) (as floats), dout, out, dx.
block.i.*: a pre-norm ViT block as EfficientSAM's (LayerNorm eps 1e-6, MHSA with qkv bias, residual, LayerNorm,
  MLP fc1 -> GELU -> fc2 with ratio 4, residual); shape = [B, T, C, NH]; x, dout, out, dx, then "p.NAME" and
  "g.NAME" for every parameter (state-dict names: norm1.weight, attn.qkv.weight, mlp.fc1.weight, ...).
attnblock.*: a spatial attention block as diffusers' (GroupNorm, then single-sequence attention over the H*W
  positions with to_q/to_k/to_v/to_out.0 projections, residual) on x (N, C, H, W); shape = [N, C, H, W, G, NH];
  x, dout, out, dx, "p.NAME", "g.NAME".
"""
import os

import torch

import fixture

F = torch.nn.functional
PATCH = [(2, 3, 32, 32, 16, 24), (1, 3, 21, 18, 4, 8), (1, 2, 8, 12, 2, 5)]
BICUBIC = [(14, 14, 8, 64, 64), (5, 7, 3, 9, 4), (3, 3, 2, 8, 8), (9, 6, 4, 4, 3)]
BLOCKS = [(2, 16, 64, 4), (1, 64, 64, 4)]


def sdpa(q, k, v, nh):
    b, tq, c = q.shape
    tk = k.shape[1]
    hd = c // nh
    q = q.reshape(b, tq, nh, hd).transpose(1, 2)
    k = k.reshape(b, tk, nh, hd).transpose(1, 2)
    v = v.reshape(b, tk, nh, hd).transpose(1, 2)
    att = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1)
    return (att @ v).transpose(1, 2).reshape(b, tq, c)


class Block(torch.nn.Module):
    def __init__(self, c, nh):
        super().__init__()
        self.nh = nh
        self.norm1 = torch.nn.LayerNorm(c, eps=1e-6)
        self.attn = torch.nn.Module()
        self.attn.qkv = torch.nn.Linear(c, 3 * c)
        self.attn.proj = torch.nn.Linear(c, c)
        self.norm2 = torch.nn.LayerNorm(c, eps=1e-6)
        self.mlp = torch.nn.Module()
        self.mlp.fc1 = torch.nn.Linear(c, 4 * c)
        self.mlp.fc2 = torch.nn.Linear(4 * c, c)

    def forward(self, x):
        c = x.shape[-1]
        qkv = self.attn.qkv(self.norm1(x))
        x = x + self.attn.proj(sdpa(qkv[..., :c], qkv[..., c:2 * c], qkv[..., 2 * c:], self.nh))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class AttnBlock(torch.nn.Module):
    def __init__(self, c, groups, nh):
        super().__init__()
        self.nh = nh
        self.group_norm = torch.nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q = torch.nn.Linear(c, c)
        self.to_k = torch.nn.Linear(c, c)
        self.to_v = torch.nn.Linear(c, c)
        self.to_out = torch.nn.ModuleList([torch.nn.Linear(c, c)])

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)
        a = self.to_out[0](sdpa(self.to_q(t), self.to_k(t), self.to_v(t), self.nh))
        return x + a.transpose(1, 2).reshape(n, c, h, w)


def perturb(module, g):
    """Random parameters everywhere (norm scales near 1), so no gradient path is trivially zero."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "group_norm.weight":
                p.copy_(1 + 0.2 * r)
            elif p.dim() == 1:
                p.copy_(0.2 * r)
            else:
                p.copy_(r / p.shape[1] ** 0.5)


def module_case(prefix, module, x, g):
    x.requires_grad_()
    out = module(x)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t = {prefix + "x": x, prefix + "dout": dout, prefix + "out": out, prefix + "dx": x.grad}
    for name, p in module.named_parameters():
        t[prefix + "p." + name] = p
        t[prefix + "g." + name] = p.grad
    return t


def make(outdir):
    g = torch.Generator().manual_seed(777)
    t = {"patch.cases": torch.tensor([len(PATCH)], dtype=torch.float32),
         "bicubic.cases": torch.tensor([len(BICUBIC)], dtype=torch.float32),
         "block.cases": torch.tensor([len(BLOCKS)], dtype=torch.float32)}
    for i, s in enumerate(PATCH):
        b, ci, h, w, p, d = s
        img = torch.randn(b, ci, h, w, generator=g, requires_grad=True)
        wt = (torch.randn(d, ci, p, p, generator=g) / (ci * p * p) ** 0.5).requires_grad_()
        bias = torch.randn(d, generator=g).requires_grad_()
        out = F.conv2d(img, wt, bias, stride=p).flatten(2).transpose(1, 2)
        dout = torch.randn(out.shape, generator=g)
        (out * dout).sum().backward()
        k = "patch.%d." % i
        t.update({k + "shape": torch.tensor(s, dtype=torch.float32), k + "img": img, k + "w": wt, k + "b": bias,
                  k + "dout": dout, k + "out": out, k + "dimg": img.grad, k + "dw": wt.grad, k + "db": bias.grad})
    for i, s in enumerate(BICUBIC):
        hi, wi, c, ho, wo = s
        x = torch.randn(hi, wi, c, generator=g, requires_grad=True)
        out = F.interpolate(x.permute(2, 0, 1)[None], size=(ho, wo), mode="bicubic", align_corners=False)
        out = out[0].permute(1, 2, 0)
        dout = torch.randn(out.shape, generator=g)
        (out * dout).sum().backward()
        k = "bicubic.%d." % i
        t.update({k + "shape": torch.tensor(s, dtype=torch.float32), k + "x": x, k + "dout": dout, k + "out": out,
                  k + "dx": x.grad})
    x = torch.randn(2, 10, 3, generator=g, requires_grad=True)
    idx = torch.stack([torch.randperm(10, generator=g)[:4] for _ in range(2)])
    out = torch.gather(x, 1, idx[..., None].expand(2, 4, 3))
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t.update({"gather.x": x, "gather.idx": idx.float(), "gather.dout": dout, "gather.out": out, "gather.dx": x.grad})
    for i, (b, n, c, nh) in enumerate(BLOCKS):
        blk = Block(c, nh)
        perturb(blk, g)
        t["block.%d.shape" % i] = torch.tensor([b, n, c, nh], dtype=torch.float32)
        t.update(module_case("block.%d." % i, blk, torch.randn(b, n, c, generator=g), g))
    n, c, h, w, groups, nh = 2, 32, 4, 5, 8, 2
    ab = AttnBlock(c, groups, nh)
    perturb(ab, g)
    t["attnblock.shape"] = torch.tensor([n, c, h, w, groups, nh], dtype=torch.float32)
    t.update(module_case("attnblock.", ab, torch.randn(n, c, h, w, generator=g), g))
    fixture.save(os.path.join(outdir, "vit.bin"), t)
