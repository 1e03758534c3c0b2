"""ref_metrics.py: reference values for the evaluation metrics (tests/test_eval_metrics.c).

PSNR and SSIM come from scikit-image (Debian's python3-skimage 0.19: structural_similarity with data_range=1 and
its defaults); MAD, MSE, Grad, Conn and dtSSD are transcriptions of RVM's evaluation/evaluate_lr.py (cv2 calls
replaced by their scipy equivalents: filter2D with BORDER_REPLICATE = ndimage.correlate mode 'nearest',
connectedComponentsWithStats with connectivity 4 = ndimage.label; both number components in raster order);
hole residue and collapse follow DESIGN.md section 4.

Each case k is a clip of T frames: tensors "k/p", "k/t" (T, H, W) float32 alpha read as RVM reads 8-bit PNGs
(uint8 / 255 in float32), "k/p_rgb" (T, H, W, 3), "k/t_rgba" (T, H, W, 4), "k/bg" (H, W, 3) as 0..255 values, the
per-frame metrics "k/psnr", "k/ssim", "k/mad", "k/mse", "k/grad", "k/conn", "k/dtssd", "k/fgr_mad", "k/fgr_mse"
(T) and the clip's pooled stand-ins "k/hole", "k/collapse" as [sum, count].
"""
import os

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

import fixture

SIZES = [(3, 7, 7), (2, 9, 13), (3, 31, 17), (2, 48, 64), (2, 65, 33), (3, 40, 40)]


# ---- RVM's metrics (evaluation/evaluate_lr.py), float32 arrays as RVM has them ----

def mad(p, t):
    return float(np.abs(p - t).mean(dtype=np.float64) * 1e3)


def mse(p, t):
    return float(((p - t) ** 2).mean(dtype=np.float64) * 1e3)


def gauss_filter(sigma, epsilon=1e-2):
    half = np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon)))
    size = int(2 * half + 1)
    g = lambda x: np.exp(-x ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))
    dg = lambda x: -x * g(x) / sigma ** 2
    fx = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            fx[i, j] = g(i - half) * dg(j - half)
    fx = fx / np.sqrt((fx ** 2).sum())
    return fx, fx.T


def minmax(a):
    a = a.astype(np.float64)
    lo, hi = a.min(), a.max()
    scale = 1.0 / (hi - lo) if hi - lo > np.finfo(np.float64).eps else 0.0
    return (a - lo) * scale


def grad(p, t):
    fx, fy = gauss_filter(1.4)

    def mag(a):
        gx = ndimage.correlate(a, fx, mode="nearest")
        gy = ndimage.correlate(a, fy, mode="nearest")
        return np.sqrt(gx ** 2 + gy ** 2)

    return float(((mag(minmax(t)) - mag(minmax(p))) ** 2).sum() / 1000)


def conn(p, t, step=0.1):
    thresh_steps = np.arange(0, 1 + step, step)
    round_down_map = -np.ones_like(t)
    four = ndimage.generate_binary_structure(2, 1)
    for i in range(1, len(thresh_steps)):
        inter = (t >= thresh_steps[i]) & (p >= thresh_steps[i])
        labels, n = ndimage.label(inter, structure=four)
        omega = np.zeros_like(t)
        if n:
            size = np.bincount(labels.ravel())[1:]
            omega[labels == np.argmax(size) + 1] = 1
        mask = (round_down_map == -1) & (omega == 0)
        round_down_map[mask] = thresh_steps[i - 1]
    round_down_map[round_down_map == -1] = 1
    t_diff = t - round_down_map
    p_diff = p - round_down_map
    t_phi = 1 - t_diff * (t_diff >= 0.15)
    p_phi = 1 - p_diff * (p_diff >= 0.15)
    return float(np.sum(np.abs(t_phi - p_phi), dtype=np.float64) / 1000)


def dtssd(p, p1, t, t1):
    d = ((p - p1) - (t - t1)).astype(np.float64) ** 2
    return float(np.sqrt(d.sum() / t.size) * 1e2)


def fgr(p_rgb, t_rgb, t_alpha):
    m = t_alpha > 0
    if not m.any():
        return 0.0, 0.0
    d = (p_rgb[m].astype(np.float64) - t_rgb[m].astype(np.float64)) / 255.0
    return float(np.abs(d).mean() * 1e3), float((d ** 2).mean() * 1e3)


# ---- the paper's metrics and the stand-ins ----

def psnr(p, t):
    m = ((p.astype(np.float64) - t.astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(1 / max(m, 1e-6)))


def ssim(p, t):
    return float(structural_similarity(t.astype(np.float64), p.astype(np.float64), data_range=1))


def hole_mask(t):
    bgm = t < 0.05
    labels, _ = ndimage.label(bgm, structure=ndimage.generate_binary_structure(2, 1))
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return bgm & ~np.isin(labels, border[border > 0])


def collapse_mask(t, t_rgba, bg):
    diff = np.abs(t_rgba[..., :3].astype(np.int32) - bg.astype(np.int32)).max(axis=-1)
    return (t > 0.95) & (diff <= 30)


# ---- random clips ----

def to_alpha(a):
    return (np.clip(np.rint(a * 255), 0, 255).astype(np.uint8).astype(np.float32) / 255).astype(np.float32)


def shape_field(rng, h, w):
    """Soft rings (with enclosed holes) and blobs: alpha in [0, 1]."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.zeros((h, w))
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        r_out = rng.uniform(0.2, 0.45) * min(h, w)
        r_in = r_out * rng.uniform(0.0, 0.6)
        d = np.hypot(yy - cy, xx - cx)
        soft = rng.uniform(0.5, 2.0)
        ring = np.clip((r_out - d) / soft + 0.5, 0, 1) * np.clip((d - r_in) / soft + 0.5, 0, 1)
        a = np.maximum(a, ring)
    return a


def make_case(rng, frames, h, w, kind):
    t = np.stack([to_alpha(shape_field(rng, h, w)) for _ in range(frames)])
    if kind == "noise":
        t = to_alpha(rng.uniform(0, 1, (frames, h, w)))
        p = to_alpha(rng.uniform(0, 1, (frames, h, w)))
    elif kind == "filled":  # a flood-fill-like prediction: holes filled, slight noise
        p = t.copy()
        for f in range(frames):
            p[f][hole_mask(t[f])] = 1.0
        p = to_alpha(np.clip(p + rng.normal(0, 0.02, p.shape), 0, 1))
    else:
        p = to_alpha(np.clip(t + rng.normal(0, 0.08, t.shape) + rng.uniform(-0.1, 0.1), 0, 1))
    bg = np.broadcast_to(rng.integers(200, 256, 3), (h, w, 3)).astype(np.uint8)
    t_rgb = rng.integers(0, 256, (frames, h, w, 3)).astype(np.uint8)
    t_rgb[rng.uniform(0, 1, (frames, h, w)) < 0.5] = bg[0, 0]  # half the pixels take the background's colour
    t_rgba = np.concatenate([t_rgb, np.rint(t * 255).astype(np.uint8)[..., None]], axis=-1)
    p_rgb = np.clip(t_rgb.astype(np.int32) + rng.integers(-20, 21, t_rgb.shape), 0, 255).astype(np.uint8)
    return p, t, p_rgb, t_rgba, bg


def make(outdir):
    rng = np.random.default_rng(6)
    tensors = {}
    kinds = ["noisy", "filled", "noise"]
    for k, (frames, h, w) in enumerate(SIZES):
        p, t, p_rgb, t_rgba, bg = make_case(rng, frames, h, w, kinds[k % len(kinds)])
        rows = {n: [] for n in ["psnr", "ssim", "mad", "mse", "grad", "conn", "dtssd", "fgr_mad", "fgr_mse"]}
        hole, coll = [0.0, 0], [0.0, 0]
        for f in range(frames):
            rows["psnr"].append(psnr(p[f], t[f]))
            rows["ssim"].append(ssim(p[f], t[f]))
            rows["mad"].append(mad(p[f], t[f]))
            rows["mse"].append(mse(p[f], t[f]))
            rows["grad"].append(grad(p[f], t[f]))
            rows["conn"].append(conn(p[f], t[f]))
            rows["dtssd"].append(0.0 if f == 0 else dtssd(p[f], p[f - 1], t[f], t[f - 1]))
            fm, fs = fgr(p_rgb[f], t_rgba[f][..., :3], t[f])
            rows["fgr_mad"].append(fm)
            rows["fgr_mse"].append(fs)
            hm = hole_mask(t[f])
            hole = [hole[0] + float(p[f][hm].astype(np.float64).sum()), hole[1] + int(hm.sum())]
            cm = collapse_mask(t[f], t_rgba[f], bg)
            coll = [coll[0] + float((1 - p[f][cm].astype(np.float64)).sum()), coll[1] + int(cm.sum())]
        key = "%d/" % k
        tensors.update({key + "p": p, key + "t": t, key + "p_rgb": p_rgb, key + "t_rgba": t_rgba, key + "bg": bg})
        for n, v in rows.items():
            tensors[key + n] = np.array(v)
        tensors[key + "hole"] = np.array(hole)
        tensors[key + "collapse"] = np.array(coll)
    tensors["cases"] = np.array([len(SIZES)])
    fixture.save(os.path.join(outdir, "metrics.bin"), tensors)
