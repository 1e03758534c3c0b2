"""ref_attention.py: PyTorch reference for softmax, multi-head self-attention and cross-attention
(src/nn/attention.h). Writes attention.bin.

softmax: "softmax.x" (rows, cols), "softmax.dout", "softmax.out", "softmax.dx".
Self-attention case i ("mhsa.i.*"): shape = [B, T, C, NH, bias]; x, qkv_w, qkv_b, proj_w, proj_b (when bias),
dout, out, att (B, NH, T, T) and the gradients dx, dqkv_w, dqkv_b, dproj_w, dproj_b of L = sum(out * dout).
The module is SAM's / EfficientSAM's Attention; it is checked here against torch.nn.MultiheadAttention.
Cross-attention case i ("xattn.i.*"): shape = [B, Tq, Tk, C, NH, bias]; xq, xk, xv, {q,k,v,out}_{w,b}, dout, out,
att, dxq, dxk, dxv and every weight gradient (d + name). SAM's Attention(q, k, v) with q/k/v/out projections.
"""
import os

import torch

import fixture

F = torch.nn.functional
MHSA = [(2, 16, 64, 4, 1), (1, 7, 24, 3, 0), (2, 33, 32, 2, 1)]
XATTN = [(2, 5, 12, 32, 4, 1), (1, 9, 3, 16, 2, 0)]


def sdpa(q, k, v, nh):
    """q (B, Tq, C), k, v (B, Tk, C) -> out (B, Tq, C), att (B, NH, Tq, Tk)."""
    b, tq, c = q.shape
    tk = k.shape[1]
    hd = c // nh
    q = q.reshape(b, tq, nh, hd).transpose(1, 2)
    k = k.reshape(b, tk, nh, hd).transpose(1, 2)
    v = v.reshape(b, tk, nh, hd).transpose(1, 2)
    att = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1)
    att.retain_grad()
    return (att @ v).transpose(1, 2).reshape(b, tq, c), att


def weight(g, o, i):
    return (torch.randn(o, i, generator=g) / i ** 0.5).requires_grad_()


def mhsa_case(i, shape, g):
    b, t, c, nh, bias = shape
    x = torch.randn(b, t, c, generator=g, requires_grad=True)
    qkv_w, proj_w = weight(g, 3 * c, c), weight(g, c, c)
    qkv_b = (torch.randn(3 * c, generator=g) * 0.5).requires_grad_() if bias else None
    proj_b = (torch.randn(c, generator=g) * 0.5).requires_grad_() if bias else None
    qkv = F.linear(x, qkv_w, qkv_b)
    ctx, att = sdpa(qkv[..., :c], qkv[..., c:2 * c], qkv[..., 2 * c:], nh)
    out = F.linear(ctx, proj_w, proj_b)
    # the same computation through torch.nn.MultiheadAttention
    mha = torch.nn.MultiheadAttention(c, nh, bias=bool(bias), batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(qkv_w)
        mha.out_proj.weight.copy_(proj_w)
        if bias:
            mha.in_proj_bias.copy_(qkv_b)
            mha.out_proj.bias.copy_(proj_b)
        ref, _ = mha(x, x, x, need_weights=False)
    assert torch.allclose(ref, out, atol=1e-5), "SAM Attention and nn.MultiheadAttention disagree"
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    p = "mhsa.%d." % i
    r = {p + "shape": torch.tensor(shape, dtype=torch.float32), p + "x": x, p + "qkv_w": qkv_w, p + "proj_w": proj_w,
         p + "dout": dout, p + "out": out, p + "att": att, p + "dx": x.grad, p + "dqkv_w": qkv_w.grad,
         p + "dproj_w": proj_w.grad}
    if bias:
        r.update({p + "qkv_b": qkv_b, p + "proj_b": proj_b, p + "dqkv_b": qkv_b.grad, p + "dproj_b": proj_b.grad})
    return r


def xattn_case(i, shape, g):
    b, tq, tk, c, nh, bias = shape
    xq = torch.randn(b, tq, c, generator=g, requires_grad=True)
    xk = torch.randn(b, tk, c, generator=g, requires_grad=True)
    xv = torch.randn(b, tk, c, generator=g, requires_grad=True)
    w = {n: weight(g, c, c) for n in ("q_w", "k_w", "v_w", "out_w")}
    if bias:
        w.update({n: (torch.randn(c, generator=g) * 0.5).requires_grad_() for n in ("q_b", "k_b", "v_b", "out_b")})
    bb = (lambda n: w[n]) if bias else (lambda n: None)
    ctx, att = sdpa(F.linear(xq, w["q_w"], bb("q_b")), F.linear(xk, w["k_w"], bb("k_b")),
                    F.linear(xv, w["v_w"], bb("v_b")), nh)
    out = F.linear(ctx, w["out_w"], bb("out_b"))
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    p = "xattn.%d." % i
    r = {p + "shape": torch.tensor(shape, dtype=torch.float32), p + "xq": xq, p + "xk": xk, p + "xv": xv,
         p + "dout": dout, p + "out": out, p + "att": att, p + "dxq": xq.grad, p + "dxk": xk.grad, p + "dxv": xv.grad}
    for n, v in w.items():
        r[p + n] = v
        r[p + "d" + n] = v.grad
    return r


def make(outdir):
    g = torch.Generator().manual_seed(4242)
    x = (torch.randn(6, 9, generator=g) * 10).requires_grad_()
    out = torch.softmax(x, dim=-1)
    dout = torch.randn(out.shape, generator=g)
    (out * dout).sum().backward()
    t = {"softmax.x": x, "softmax.dout": dout, "softmax.out": out, "softmax.dx": x.grad,
         "mhsa.cases": torch.tensor([len(MHSA)], dtype=torch.float32),
         "xattn.cases": torch.tensor([len(XATTN)], dtype=torch.float32)}
    for i, s in enumerate(MHSA):
        t.update(mhsa_case(i, s, g))
    for i, s in enumerate(XATTN):
        t.update(xattn_case(i, s, g))
    fixture.save(os.path.join(outdir, "attention.bin"), t)
