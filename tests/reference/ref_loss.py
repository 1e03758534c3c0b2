"""ref_loss.py: PyTorch reference for the losses (src/nn/loss.h): L1, L2 (MSE) and BCE on logits, mean-reduced,
without and with a mask (the masked loss is sum(mask * l) / sum(mask), e.g. L1 where alpha > 0). Writes loss.bin.

"pred", "target" (in [0, 1] for BCE), "mask" (0/1), "soft" (weights in [0, 1]); for each loss K in l1, l2, bce
and each mask M in none, mask, soft: "K.M.value" (1) and "K.M.grad" (d value / d pred).
Some pred values equal their targets, so the L1 gradient at 0 is covered.
"""
import os

import torch

import fixture

F = torch.nn.functional


def masked(l, m):
    return l.sum() / m.sum() if m is not None else l.mean()


def make(outdir):
    g = torch.Generator().manual_seed(99)
    n = 61
    pred = torch.randn(n, generator=g) * 3
    target = torch.rand(n, generator=g)
    pred[::7] = target[::7]
    mask = (torch.rand(n, generator=g) > 0.4).float()
    soft = torch.rand(n, generator=g) * mask
    t = {"pred": pred, "target": target, "mask": mask, "soft": soft}
    losses = {
        "l1": lambda p: (p - target).abs(),
        "l2": lambda p: (p - target) ** 2,
        "bce": lambda p: F.binary_cross_entropy_with_logits(p, target, reduction="none"),
    }
    for k, f in losses.items():
        for mname, m in (("none", None), ("mask", mask), ("soft", soft)):
            p = pred.clone().requires_grad_()
            l = f(p)
            v = masked(l * m if m is not None else l, m)
            if m is None:  # the library's own mean-reduced form agrees
                ref = {"l1": F.l1_loss, "l2": F.mse_loss, "bce": F.binary_cross_entropy_with_logits}[k](p, target)
                assert torch.allclose(ref, v)
            v.backward()
            t["%s.%s.value" % (k, mname)] = v.reshape(1)
            t["%s.%s.grad" % (k, mname)] = p.grad
    fixture.save(os.path.join(outdir, "loss.bin"), t)
