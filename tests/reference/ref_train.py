"""ref_train.py: a tiny end-to-end training run in PyTorch for tests/test_nn_train.c: a small conv net
(conv1 3x3 1->8, ReLU, conv2 3x3 8->8, ReLU, conv3 1x1 8->1) learns to map random images to a fixed nonlinear
filter of them (MSE), 100 steps of AdamW with gradient clipping and warmup + cosine, cycling over 4 fixed batches.

Writes train_init.safetensors (the initial weights, F32, state-dict names, written by hand as in
ref_safetensors.py) and train.bin: "x" (4, 8, 1, 8, 8), "y" (4, 8, 1, 8, 8), "loss" (100) the loss of each step
before its update, "cfg" = [steps, lr_max, lr_min, warmup, beta1, beta2, eps, weight_decay, max_norm].
"""
import math
import os

import torch

import fixture
from ref_optim import lr_at
from ref_safetensors import write_safetensors

F = torch.nn.functional
STEPS = 100


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(8, 1, 1)

    def forward(self, x):
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))


def make(outdir):
    torch.manual_seed(31337)
    net = Net()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 8, 1, 8, 8, generator=g)
    box = torch.ones(1, 1, 3, 3) / 9
    y = torch.stack([F.relu(F.conv2d(xb, box, padding=1)) * 2 - 0.3 for xb in x])
    lr_max, lr_min, warmup, b1, b2, eps, wd, max_norm = 1e-2, 1e-3, 10, 0.9, 0.999, 1e-8, 0.01, 1.0
    write_safetensors(os.path.join(outdir, "train_init.safetensors"),
                      [(k, "F32", tuple(v.shape), v.detach().numpy().astype("<f4").tobytes())
                       for k, v in net.state_dict().items()])
    decay = [p for n, p in net.named_parameters() if n.endswith("weight")]
    other = [p for n, p in net.named_parameters() if not n.endswith("weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": other, "weight_decay": 0.0}],
                            lr=lr_max, betas=(b1, b2), eps=eps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, warmup, STEPS, lr_max, lr_min) / lr_max)
    losses = []
    for s in range(STEPS):
        opt.zero_grad()
        loss = F.mse_loss(net(x[s % 4]), y[s % 4])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm)
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert math.isfinite(losses[-1]) and losses[-1] < 0.5 * losses[0]
    fixture.save(os.path.join(outdir, "train.bin"),
                 {"x": x, "y": y, "loss": torch.tensor(losses),
                  "cfg": torch.tensor([STEPS, lr_max, lr_min, warmup, b1, b2, eps, wd, max_norm])})
