"""pngwrite.py: a minimal PNG writer (numpy + zlib) for test scripts that make image sets.

    from pngwrite import png
    png("a.png", array)   # (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, uint8
"""
import struct
import zlib

import numpy as np


def png(path, img):
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape[:2]
    ch = 1 if img.ndim == 2 else img.shape[2]
    ct = {1: 0, 3: 2, 4: 6}[ch]
    raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ct, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)
