"""ref_models_torch.py: the PyTorch reference model (tests/reference/ildiff_models.py, class ILDiff) with the weights
and configuration of an ildiff model file, timed as bench_models times ours, for bench/models_vs_torch.sh.

    /usr/bin/python3 bench/ref_models_torch.py --model FILE [--threads 2] [--runs 3] [--size 512] [--frames 16] \
        [--train-size 256 | --no-train] [--setting default|best|both] [--clock wall|cpu] > torch.tsv
    /usr/bin/python3 bench/ref_models_torch.py --model FILE --parity DUMP --size S --frames F

The model file (matte/model_file.h) is read here with struct + json + numpy (Debian has no safetensors
package): its __metadata__["config"] gives the ILDiffConfig, every tensor (F32, F16 or BF16, converted to
float32) loads by name with load_state_dict(strict=True).

Timings (medians of --runs runs after one warm-up; wall clock and process CPU time of the same runs), one TSV
line each: "part<TAB>torch-SETTING<TAB>wall_ms<TAB>cpu_ms<TAB>layout":
  vae_encoder, student, decoder  one frame (batch 1) of --size (the student at its img_size), as bench_models;
  temporal                       the adapter on one clip of --frames frames;
  path                           ILDiff.forward on the clip (1, frames, 3, size, size): all frames in one batch,
                                 as people run the module;
  train_step                     stage S3: 2 clips x 8 frames of --train-size, model.train(), the VAE encoder and
                                 the student frozen (requires_grad False), zero the gradients, forward,
                                 alpha_loss (mean |alpha - target|, a fixed 0/1 target), backward: the gradients
                                 of D_T and the temporal adapter only. As bench_models' training step.
Settings:
  default  NCHW tensors and weights, torch.no_grad() for inference, model.zero_grad() (torch 1.13: set to zero),
           glibc malloc as it comes (PyTorch as people run it);
  best     torch.inference_mode(), gradients set to None, GLIBC_TUNABLES as bench/ref_ops_torch.py (the script
           re-runs itself with it), and channels_last where it helps: each part is timed with NCHW and with
           channels_last weights and input (channels_last_3d for the 5-D Conv3d weights) and keeps the faster
           ("mixed" = each part in its faster layout); the path and the training step take the fastest of nchw,
           channels_last and mixed. The layout column says which won.
Both settings use torch.set_num_threads(--threads) and OpenBLAS's own thread count (ref_ops_torch_attn).

--parity DUMP reads the file `bench_models --model FILE --dump-alpha DUMP --size S --frames F` wrote (the
sticker-like clip (F, 3, S, S) then C's output (F, 4, S, S), float32), runs the default setting on the same clip
and prints one line with max |alpha_C - alpha_torch| (and the same for the straight foreground).
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import ref_ops_torch  # noqa: E402  (TUNABLES)
import ref_ops_torch_attn  # noqa: E402  (set_blas_threads)

PARTS = ("vae_encoder", "student", "temporal", "decoder")


# ---- the model file ------------------------------------------------------------------------------------------------

def read_model_file(path):
    """-> ({name: float32 ndarray}, metadata dict). Raises ValueError on a file that is not safetensors."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("too short for safetensors")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("header length beyond the end of the file")
    header = json.loads(blob[8:8 + n])
    data = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        raw = data[b:e]
        if t["dtype"] == "F32":
            v = np.frombuffer(raw, dtype="<f4")
        elif t["dtype"] == "F16":
            v = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif t["dtype"] == "BF16":
            v = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("%s: dtype %s is not a float the model file uses" % (name, t["dtype"]))
        out[name] = v.reshape(t["shape"]).astype(np.float32)
    return out, meta


def build_model(torch, path):
    """ILDiff with the file's configuration and weights (float32)."""
    import ildiff_models as im

    tensors, meta = read_model_file(path)
    if meta.get("format") != "ildiff-model" or "config" not in meta:
        raise ValueError("not an ildiff model file (no format/config in its metadata)")
    c = json.loads(meta["config"])
    v, s, t, d = c["vae"], c["student"], c["temporal"], c["decoder"]
    if d["levels"] != len(d["widths"]):
        raise ValueError("decoder.levels does not match decoder.widths")
    cfg = im.ILDiffConfig(
        vae=im.VaeConfig(enc_widths=tuple(v["enc_widths"]), dec_widths=tuple(v["dec_widths"]), blocks=v["blocks"],
                         latent=v["latent"]),
        student=im.StudentConfig(**{k: s[k] for k in ("img_size", "patch", "dim", "depth", "heads", "mlp_ratio",
                                                      "out_dim")}),
        temporal=im.TemporalConfig(**{k: t[k] for k in ("channels", "depth", "groups", "latent")}),
        decoder=im.DecoderConfig(widths=tuple(d["widths"]), **{k: d[k] for k in ("layers", "groups", "head_dim",
                                                                               "attn_levels", "latent_level",
                                                                               "latent")}))
    model = im.ILDiff(cfg)
    model.load_state_dict({k: torch.from_numpy(a) for k, a in tensors.items()}, strict=True)
    return model, im


# ---- timing --------------------------------------------------------------------------------------------------------

def median_ms(fn, runs):
    """(median wall ms, median process CPU ms) of `runs` runs after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def set_layout(torch, module, layout):
    """Every 4-D parameter to channels_last (5-D: channels_last_3d) for "cl", back to contiguous for "nchw"."""
    for p in module.parameters():
        if p.dim() not in (4, 5):
            continue
        fmt = torch.contiguous_format
        if layout == "cl":
            fmt = torch.channels_last if p.dim() == 4 else torch.channels_last_3d
        p.grad = None
        p.data = p.data.contiguous(memory_format=fmt)


def as_layout(torch, x, layout):
    return x.contiguous(memory_format=torch.channels_last) if layout == "cl" and x.dim() == 4 else x


def time_inference(torch, model, a, best):
    """Rows (part, wall, cpu, layout) for the four parts and the path."""
    key = 1 if a.clock == "cpu" else 0
    grad_off = torch.inference_mode if best else torch.no_grad
    g = torch.Generator().manual_seed(2)
    T, H = a.frames, a.size
    clip = torch.rand(1, T, 3, H, H, generator=g)
    S = model.cfg.student.img_size
    with torch.no_grad():
        frames = clip.reshape(T, 3, H, H)
        z = model.vae_encoder(frames[:1])
        xs = torch.nn.functional.adaptive_avg_pool2d(frames, (S, S))
        f = model.student(xs)
        f = f.reshape(1, T, *f.shape[1:]).clone()
        x1, xs1 = frames[:1].clone(), xs[:1].clone()
        zl = z.clone()
    latent_hw = z.shape[2:]
    runs = {
        "vae_encoder": lambda L: (lambda x=as_layout(torch, x1, L): model.vae_encoder(x)),
        "student": lambda L: (lambda x=as_layout(torch, xs1, L): model.student(x)),
        "temporal": lambda L: (lambda: model.temporal(f, latent_hw)),
        "decoder": lambda L: (lambda x=as_layout(torch, x1, L), l=as_layout(torch, zl, L): model.decoder(x, l)),
    }
    rows, chosen = [], {}
    for part in PARTS:
        results = {}
        for L in (("nchw", "cl") if best else ("nchw",)):
            set_layout(torch, getattr(model, part), L)
            fn = runs[part](L)
            with grad_off():
                results[L] = median_ms(fn, a.runs)
        chosen[part] = min(results, key=lambda L: results[L][key])
        set_layout(torch, getattr(model, part), "nchw")
        rows.append((part,) + results[chosen[part]] + (chosen[part],))
    results = {}
    for name, layouts in variants(chosen, best).items():
        for part in PARTS:
            set_layout(torch, getattr(model, part), layouts[part])
        with grad_off():
            results[name] = median_ms(lambda: model(clip), a.runs)
    win = min(results, key=lambda n: results[n][key])
    for part in PARTS:
        set_layout(torch, getattr(model, part), "nchw")
    rows.append(("path",) + results[win] + (win,))
    return rows, chosen


def variants(chosen, best):
    """Layout plans of the whole model to try: {name: {part: layout}}."""
    out = {"nchw": {p: "nchw" for p in PARTS}}
    if best:
        out["channels_last"] = {p: "cl" for p in PARTS}
        if len(set(chosen.values())) > 1:
            out["mixed"] = dict(chosen)
    return out


def time_train(torch, model, im, a, best, chosen):
    """The S3 step (module docstring): (wall, cpu, layout)."""
    key = 1 if a.clock == "cpu" else 0
    g = torch.Generator().manual_seed(3)
    S = a.train_size
    rgb = torch.rand(2, 8, 3, S, S, generator=g)
    target = (torch.rand(2, 8, 1, S, S, generator=g) > 0.5).float()
    model.train()
    for part in ("vae_encoder", "student"):
        getattr(model, part).requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]

    def step():
        if best:
            for p in trainable:
                p.grad = None
        else:
            model.zero_grad()
        alpha, _ = model(rgb)
        im.alpha_loss(alpha, target).backward()

    results = {}
    for name, layouts in variants(chosen, best).items():
        for part in PARTS:
            set_layout(torch, getattr(model, part), layouts[part])
        results[name] = median_ms(step, a.runs)
    win = min(results, key=lambda n: results[n][key])
    for part in PARTS:
        set_layout(torch, getattr(model, part), "nchw")
    return results[win] + (win,)


# ---- parity --------------------------------------------------------------------------------------------------------

def parity(torch, model, a):
    T, S = a.frames, a.size
    nx, ny = T * 3 * S * S, T * 4 * S * S
    raw = np.fromfile(a.parity, dtype="<f4")
    if raw.size != nx + ny:
        sys.exit("ref_models_torch: %s: %d floats, expected %d for %d frames of %dx%d" % (a.parity, raw.size, nx + ny,
                                                                                        T, S, S))
    clip = torch.from_numpy(raw[:nx].copy()).reshape(1, T, 3, S, S)
    yc = raw[nx:].reshape(T, 4, S, S)
    model.eval()
    with torch.no_grad():
        alpha, fg = model(clip)
    alpha, fg = alpha.reshape(T, S, S).numpy(), fg.reshape(T, 3, S, S).numpy()
    da, df = np.abs(yc[:, 0] - alpha).max(), np.abs(yc[:, 1:] - fg).max()
    print("parity: max |alpha_C - alpha_torch| = %.2e (straight fg: %.2e) on the sticker-like clip, %d frames %dx%d; "
          "torch alpha in [%.3f, %.3f]" % (da, df, T, S, S, alpha.min(), alpha.max()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="an ildiff model file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--train-size", type=int, default=256)
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--setting", default="both", choices=["default", "best", "both"])
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="the clock that picks the best layout (both are printed)")
    ap.add_argument("--parity", metavar="DUMP", help="compare with bench_models --dump-alpha DUMP; no timings")
    a = ap.parse_args()
    if a.runs < 1 or a.threads < 1 or a.frames < 1 or a.size < 8 or a.train_size < 8:
        sys.exit("ref_models_torch: runs, threads, frames >= 1; sizes >= 8")
    if a.setting == "both" and not a.parity:
        args, skip = [], False
        for v in sys.argv[1:]:  # without any --setting X / --setting=X
            if not skip and not v.startswith("--setting"):
                args.append(v)
            skip = v == "--setting"
        for s in ("default", "best"):
            sys.stdout.flush()
            subprocess.run([sys.executable, os.path.abspath(__file__)] + args + ["--setting", s], check=True)
        return
    tun = ref_ops_torch.TUNABLES
    if a.setting == "best" and not a.parity and os.environ.get("GLIBC_TUNABLES") != tun:
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                  dict(os.environ, GLIBC_TUNABLES=tun))
    if a.setting == "default" and "GLIBC_TUNABLES" in os.environ:
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                  {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"})
    import torch

    torch.set_num_threads(a.threads)
    ref_ops_torch_attn.set_blas_threads(a.threads)
    try:
        model, im = build_model(torch, a.model)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        sys.exit("ref_models_torch: %s: %s" % (a.model, str(e).splitlines()[0] if str(e) else type(e).__name__))
    mult = model.cfg.multiple
    if a.size % mult or (not a.no_train and a.train_size % mult):
        sys.exit("ref_models_torch: sizes must be multiples of %d for this model" % mult)
    if a.parity:
        parity(torch, model, a)
        return
    best = a.setting == "best"
    model.eval()
    rows, chosen = time_inference(torch, model, a, best)
    if not a.no_train:
        rows.append(("train_step",) + time_train(torch, model, im, a, best, chosen))
    for part, wall, cpu, layout in rows:
        print("%s\ttorch-%s\t%.3f\t%.3f\t%s" % (part, a.setting, wall, cpu, layout), flush=True)


if __name__ == "__main__":
    main()
