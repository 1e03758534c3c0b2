"""ref_models.py: PyTorch reference outputs for the C models (src/models/, tests/test_models.c), tiny configs.

One file per model, models_<name>.bin, holding:
  "param.<state-dict key>"  every parameter (random; zero-initialised ones made non-zero, norms perturbed)
  "in.<name>"               inputs            "out.<name>"  outputs        "dout.<name>" upstream gradients
  "grad.<state-dict key>"   d/dparam of L = sum over outputs of sum(out * dout)
  "grad_in.<name>"          d/dinput of L, for the float inputs
Integer inputs (token ids) are stored as floats. The tiny configs here are repeated in tests/test_models.c.
Also models_losses.bin: every loss of ildiff_models.py with its gradient.
"""
import os

import torch

import fixture
import ildiff_models as M

VAE = M.VaeConfig(enc_widths=(4, 8, 8), dec_widths=(8, 8, 4, 4), blocks=1)
OFFSET = M.OffsetConfig(widths=(4, 4, 8, 8))
DECODER = M.DecoderConfig(widths=(4, 8, 8, 16), layers=1, groups=2, head_dim=4, attn_levels=1, latent_level=3)
STUDENT = M.StudentConfig(img_size=16, patch=4, dim=16, depth=2, heads=2, mlp_ratio=2, out_dim=8)
SAMI = M.SamiConfig(depth=1, heads=2, mlp_ratio=2, teacher_dim=12)
TEACHER = M.TeacherConfig(widths=(4, 8, 8, 12), res_per_stage=1, groups=2)
TEMPORAL = M.TemporalConfig(channels=8, depth=3, groups=2)
ILDIFF = M.ILDiffConfig(vae=VAE, student=STUDENT, temporal=TEMPORAL, decoder=DECODER)


def randomise(module, g):
    """Non-zero weights everywhere and perturbed norm scales/shifts, so every gradient path is exercised."""
    M.init_nonzero(module, 0.1, g)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name or p.dim() == 1 and name.endswith("weight"):
                p.add_(torch.randn(p.shape, generator=g) * 0.1)


def run(module, name, inputs, fn, outdir, g, grad_inputs=True):
    """Runs fn(**inputs) -> dict of outputs, backprops L = sum(out * dout), writes models_<name>.bin."""
    t = {}
    for k, v in module.state_dict().items():
        t["param." + k] = v
    ins = {}
    for k, v in inputs.items():
        if v.is_floating_point() and grad_inputs:
            v = v.clone().requires_grad_()
        ins[k] = v
        t["in." + k] = v.float()
    outs = fn(**ins)
    loss = 0
    for k, v in outs.items():
        d = torch.randn(v.shape, generator=g)
        t["out." + k] = v
        t["dout." + k] = d
        loss = loss + (v * d).sum()
    loss.backward()
    for k, p in module.named_parameters():
        t["grad." + k] = p.grad if p.grad is not None else torch.zeros_like(p)
    for k, v in ins.items():
        if v.requires_grad:
            t["grad_in." + k] = v.grad
    fixture.save(os.path.join(outdir, "models_%s.bin" % name), t)


def make(outdir):
    g = torch.Generator().manual_seed(2024)
    torch.manual_seed(2024)

    m = M.TemporalAdapter(TEMPORAL)
    randomise(m, g)
    run(m, "temporal", {"f": torch.randn(2, 3, 8, 3, 5, generator=g)},
        lambda f: {"l": m(f, (4, 8))}, outdir, g)

    m = M.VaeEncoder(VAE)
    randomise(m, g)
    run(m, "vae_encoder", {"x": torch.rand(2, 3, 16, 24, generator=g)}, lambda x: {"z": m(x)}, outdir, g)

    m = M.VaeDecoder(VAE)
    randomise(m, g)
    run(m, "vae_decoder", {"z": torch.randn(2, 4, 2, 3, generator=g) * 2}, lambda z: {"y": m(z)}, outdir, g)

    m = M.OffsetEncoder(OFFSET)
    randomise(m, g)
    run(m, "offset_encoder", {"x": torch.rand(2, 4, 16, 24, generator=g)}, lambda x: {"offset": m(x)}, outdir, g)

    m = M.TransparentDecoder(DECODER)
    randomise(m, g)
    run(m, "transparent_decoder", {"rgb": torch.rand(2, 3, 16, 24, generator=g),
                                   "latent": torch.randn(2, 4, 2, 3, generator=g)},
        lambda rgb, latent: {"y": m(rgb, latent)}, outdir, g)

    m = M.LayoutEncoder(STUDENT)
    randomise(m, g)
    run(m, "layout_encoder", {"x": torch.rand(2, 3, 16, 16, generator=g)}, lambda x: {"f": m(x)}, outdir, g)

    st = M.LayoutEncoder(STUDENT)
    sd = M.SamiDecoder(STUDENT, SAMI)
    both = torch.nn.ModuleDict({"student": st, "sami": sd})
    randomise(both, g)
    keep, mask = M.random_masking(2, 16, SAMI.mask_ratio, g)
    run(both, "sami", {"x": torch.rand(2, 3, 16, 16, generator=g), "ids_keep": keep, "ids_mask": mask},
        lambda x, ids_keep, ids_mask: {"proj": sd(st, x, ids_keep, ids_mask)}, outdir, g)

    m = M.LayoutTeacher(TEACHER)
    randomise(m, g)
    run(m, "teacher", {"x": torch.rand(2, 3, 16, 32, generator=g)},
        lambda x: dict(zip(("feat", "logits"), m(x))), outdir, g)

    m = M.ILDiff(ILDIFF)
    randomise(m, g)
    run(m, "ildiff", {"rgb": torch.rand(1, 3, 3, 32, 48, generator=g)},
        lambda rgb: dict(zip(("alpha", "fg"), m(rgb))), outdir, g)

    losses(outdir, g)


def losses(outdir, g):
    """Each loss on random tensors, value and gradient by its prediction input."""
    a = torch.rand(2, 3, 1, 6, 7, generator=g, requires_grad=True)
    ag = (torch.rand(2, 3, 1, 6, 7, generator=g) * 1.4 - 0.2).clamp(0, 1)
    fg = torch.rand(2, 3, 3, 6, 7, generator=g, requires_grad=True)
    fgg = torch.rand(2, 3, 3, 6, 7, generator=g)
    p = torch.randn(2, 12, 3, 4, generator=g, requires_grad=True)
    pt = torch.randn(2, 12, 3, 4, generator=g)
    ids = torch.randint(0, 4, (2, 10, 12), generator=g)
    tg, wt = M.part_targets(ids, M.TeacherConfig().aff_offsets)
    lg = torch.randn(tg.shape, generator=g, requires_grad=True)
    t = {"in.alpha": a, "in.alpha_gt": ag, "in.fg": fg, "in.fg_gt": fgg, "in.pred": p, "in.target": pt,
         "in.part_ids": ids.float(), "out.part_targets": tg, "out.part_weights": wt, "in.logits": lg}
    for name, fn, x in (("alpha", lambda: M.alpha_loss(a, ag), a), ("rgb", lambda: M.rgb_loss(fg, fgg, ag), fg),
                        ("harmless", lambda: M.harmless_loss(p, pt), p), ("distill", lambda: M.distill_loss(p, pt), p),
                        ("teacher", lambda: M.teacher_loss(lg, tg, wt), lg),
                        ("coherence", lambda: M.coherence_loss(a, ag), a)):
        x.grad = None
        v = fn()
        v.backward()
        t["loss." + name] = v.reshape(1)
        t["grad." + name] = x.grad.clone()
    fixture.save(os.path.join(outdir, "models_losses.bin"), t)
