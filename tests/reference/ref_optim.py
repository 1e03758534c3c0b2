"""ref_optim.py: PyTorch reference for the optimizer pieces (src/nn/optim.h): 10 steps of torch.optim.AdamW on
two parameters ("w" with weight decay, "b" without) from fixed gradients, each step clipped by
torch.nn.utils.clip_grad_norm_ and driven by a LambdaLR with the warmup + cosine schedule, plus an EMA of the
weights. Writes optim.bin.

"cfg" = [lr_max, lr_min, warmup, total, beta1, beta2, eps, weight_decay, max_norm, ema_decay]; "w0", "b0" initial
values; "gw" (steps, 4, 5), "gb" (steps, 5) raw gradients; per step: "lr" (the rate used), "norm" (total norm
before clipping), "w", "b" (after the step), "ema_w", "ema_b". "sched" = lr at steps 0..39 for warmup 5, total 30.
"""
import math
import os

import torch

import fixture

STEPS = 10


def lr_at(step, warmup, total, lr_max, lr_min):
    """The schedule of nn_lr_warmup_cosine."""
    if step < warmup:
        return lr_max * (step + 1) / warmup
    if total <= warmup or step >= total:
        return lr_min
    progress = (step - warmup) / (total - warmup)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


def make(outdir):
    g = torch.Generator().manual_seed(5150)
    lr_max, lr_min, warmup, total = 1e-2, 1e-4, 3, STEPS
    b1, b2, eps, wd, max_norm, ema_decay = 0.9, 0.95, 1e-8, 0.05, 1.0, 0.9
    w = torch.randn(4, 5, generator=g).requires_grad_()
    b = torch.randn(5, generator=g).requires_grad_()
    t = {"cfg": torch.tensor([lr_max, lr_min, warmup, total, b1, b2, eps, wd, max_norm, ema_decay]),
         "w0": w.detach().clone(), "b0": b.detach().clone()}
    scales = torch.tensor([0.3, 2.0, 0.8, 3.0, 0.1, 1.5, 0.5, 4.0, 0.9, 0.2])
    gw = torch.randn(STEPS, 4, 5, generator=g) * scales[:, None, None] / 4
    gb = torch.randn(STEPS, 5, generator=g) * scales[:, None] / 2
    opt = torch.optim.AdamW([{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}],
                            lr=lr_max, betas=(b1, b2), eps=eps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, warmup, total, lr_max, lr_min) / lr_max)
    ema_w, ema_b = w.detach().clone(), b.detach().clone()
    rec = {k: [] for k in ("lr", "norm", "w", "b", "ema_w", "ema_b")}
    for s in range(STEPS):
        w.grad, b.grad = gw[s].clone(), gb[s].clone()
        rec["norm"].append(float(torch.nn.utils.clip_grad_norm_([w, b], max_norm)))
        rec["lr"].append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        with torch.no_grad():
            ema_w.mul_(ema_decay).add_(w, alpha=1 - ema_decay)
            ema_b.mul_(ema_decay).add_(b, alpha=1 - ema_decay)
        for k, v in (("w", w), ("b", b), ("ema_w", ema_w), ("ema_b", ema_b)):
            rec[k].append(v.detach().clone())
    t.update({"gw": gw, "gb": gb, "lr": torch.tensor(rec["lr"]), "norm": torch.tensor(rec["norm"])})
    for k in ("w", "b", "ema_w", "ema_b"):
        t[k] = torch.stack(rec[k])
    t["sched"] = torch.tensor([lr_at(s, 5, 30, 1e-3, 1e-5) for s in range(40)])
    fixture.save(os.path.join(outdir, "optim.bin"), t)
