"""make_examples.py: draws the bundled example stickers in examples/ (our own drawings, CC0).

    /usr/bin/python3 scripts/make_examples.py

- bounce.tgs: a Lottie animation (gzip JSON, Telegram's TGS): a yellow face with white eyes bouncing beside a
  ring whose hole must stay transparent, 30 frames at 30 fps, 512x512, transparent background.
- bounce_white.gif / bounce_white.mp4: the same kind of sticker drawn in numpy over a plain white background,
  as a video generator would give it (no alpha): what `ildiff matte` is for. The straight RGBA frames it was made
  from are not kept; the corpus issue builds real test sets.
"""
import gzip
import json
import os
import struct
import subprocess
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "examples")


def static(v):
    return {"a": 0, "k": v}


def ellipse_group(name, center, size, rgb, stroke_width=0):
    """A Lottie shape group: an ellipse filled (or stroked, for a ring) with rgb in [0,1]."""
    paint = ({"ty": "st", "c": static(rgb + [1]), "o": static(100), "w": static(stroke_width), "lc": 2, "lj": 2}
             if stroke_width else {"ty": "fl", "c": static(rgb + [1]), "o": static(100), "r": 1})
    return {"ty": "gr", "nm": name, "it": [
        {"ty": "el", "p": static(center), "s": static(size), "d": 1},
        paint,
        {"ty": "tr", "p": static([0, 0]), "a": static([0, 0]), "s": static([100, 100]), "r": static(0),
         "o": static(100)},
    ]}


def bounce_keyframes(y_low, y_high, frames):
    ease = {"i": {"x": [0.4], "y": [1]}, "o": {"x": [0.6], "y": [0]}}
    return {"a": 1, "k": [dict(t=0, s=[200, y_low, 0], **ease), dict(t=frames // 2, s=[200, y_high, 0], **ease),
                          {"t": frames, "s": [200, y_low, 0]}]}


def make_tgs(path):
    frames = 30
    face = {"ddd": 0, "ind": 1, "ty": 4, "nm": "face", "sr": 1, "ao": 0, "ip": 0, "op": frames, "st": 0, "bm": 0,
            "ks": {"o": static(100), "r": static(0), "p": bounce_keyframes(300, 220, frames), "a": static([0, 0, 0]),
                   "s": static([100, 100, 100])},
            "shapes": [  # first listed is drawn on top
                ellipse_group("pupil-l", [-45, -20], [22, 30], [0.1, 0.1, 0.1]),
                ellipse_group("pupil-r", [45, -20], [22, 30], [0.1, 0.1, 0.1]),
                ellipse_group("eye-l", [-45, -25], [60, 70], [1, 1, 1]),
                ellipse_group("eye-r", [45, -25], [60, 70], [1, 1, 1]),
                ellipse_group("mouth", [0, 55], [90, 30], [0.55, 0.15, 0.1]),
                ellipse_group("head", [0, 0], [260, 260], [1, 0.8, 0.15]),
            ]}
    ring = {"ddd": 0, "ind": 2, "ty": 4, "nm": "ring", "sr": 1, "ao": 0, "ip": 0, "op": frames, "st": 0, "bm": 0,
            "ks": {"o": static(100), "a": static([0, 0, 0]), "s": static([100, 100, 100]), "p": static([400, 150, 0]),
                   "r": {"a": 1, "k": [{"t": 0, "s": [0], "i": {"x": [0.5], "y": [0.5]}, "o": {"x": [0.5], "y": [0.5]}},
                                       {"t": frames, "s": [360]}]}},
            "shapes": [ellipse_group("ring", [0, 0], [110, 80], [0.9, 0.2, 0.5], stroke_width=22)]}
    doc = {"v": "5.7.4", "fr": 30, "ip": 0, "op": frames, "w": 512, "h": 512, "nm": "bounce", "ddd": 0,
           "assets": [], "layers": [face, ring], "tgs": 1}
    data = json.dumps(doc, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0))


def write_png(path, rgb):
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def draw_frame(t, size=256):
    """RGBA float frame at time t in [0,1): face with white eyes bouncing, a ring with a hole, a soft shadow."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    rgb = np.zeros((size, size, 3), np.float32)
    alpha = np.zeros((size, size), np.float32)

    def paint(mask, color, a=1.0):
        nonlocal rgb, alpha
        m = np.clip(mask, 0, 1) * a
        rgb = rgb * (1 - m[..., None]) + np.array(color, np.float32) * m[..., None]
        alpha = alpha * (1 - m) + m

    def disc(cx, cy, rx, ry):  # anti-aliased ellipse coverage
        d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        return np.clip((1 - d) * min(rx, ry) + 0.5, 0, 1)

    cy = 150 - 40 * np.sin(np.pi * t)
    shadow = np.exp(-(((xx - 100) / 60) ** 2 + ((yy - 228) / 8) ** 2))
    paint(shadow, (0, 0, 0), 0.35 * (0.6 + 0.4 * (1 - np.sin(np.pi * t))))
    paint(disc(100, cy, 65, 65), (1.0, 0.8, 0.15))
    for ex in (77, 123):
        paint(disc(ex, cy - 12, 15, 18), (1, 1, 1))
        paint(disc(ex, cy - 9, 6, 8), (0.1, 0.1, 0.1))
    paint(disc(100, cy + 28, 22, 8), (0.55, 0.15, 0.1))
    ring = np.clip(disc(200, 70, 34, 26) - disc(200, 70, 20, 13), 0, 1)
    paint(ring, (0.9, 0.2, 0.5))
    return rgb, alpha


def make_rgb_on_white(gif_path, mp4_path, frames=16):
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(frames):
            rgb, alpha = draw_frame(i / frames)
            out = rgb * alpha[..., None] + (1 - alpha[..., None])
            write_png(os.path.join(tmp, "%03d.png" % i), np.round(out * 255).astype(np.uint8))
        common = ["ffmpeg", "-v", "error", "-y", "-framerate", "12", "-i", os.path.join(tmp, "%03d.png")]
        subprocess.run(common + ["-vf", "split[a][b];[a]palettegen=reserve_transparent=0[p];[b][p]paletteuse",
                                 "-loop", "0", gif_path], check=True)
        subprocess.run(common + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20", mp4_path], check=True)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_tgs(os.path.join(OUT, "bounce.tgs"))
    make_rgb_on_white(os.path.join(OUT, "bounce_white.gif"), os.path.join(OUT, "bounce_white.mp4"))
    for name in sorted(os.listdir(OUT)):
        print("examples/%s: %d bytes" % (name, os.path.getsize(os.path.join(OUT, name))))
