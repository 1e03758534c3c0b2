"""make_floor_set.py: makes tests/data/matte_floor, the small committed clips on which tests/cli/test_floor.sh runs the
shipped model and fails when its quality drops under a floor.

The clips are validation samples (never TASD-T), exported by `ildiff dataset export` from the corpus that
scripts/build_corpus.sh builds (corpus/val-eval: 500 samples, seed 2, 256x256); five chosen by hand to cover the
tags (semi-open, white parts, soft alpha; white, gradient and noise backgrounds; JPEG, GIF and H.264 damage), from
the MIT (fluent-emoji-flat) and CC-BY-4.0 (twemoji) sets only, their first FRAMES frames halved to 128x128 by a 2x2
box average (input and ground-truth alpha alike). Each sample keeps its meta.json (tags, background, attribution).

    /usr/bin/python3 tests/reference/make_floor_set.py corpus/val-eval tests/data/matte_floor
"""
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image

from pngwrite import png

SAMPLES = ["00000012", "00000045", "00000040", "00000114", "00000083"]
FRAMES = 6


def half(a):
    a = a.astype(np.float64)
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    a = a[:h, :w]
    return np.rint((a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4).astype(np.uint8)


def main(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    for s in SAMPLES:
        meta = json.load(open(os.path.join(src, s, "meta.json")))
        for sub in ["input", "gt_alpha"]:
            os.makedirs(os.path.join(dst, s, sub))
            names = sorted(os.listdir(os.path.join(src, s, sub)))[:FRAMES]
            for n in names:
                img = np.asarray(Image.open(os.path.join(src, s, sub, n)))
                png(os.path.join(dst, s, sub, n), half(img))
        keep = {k: meta[k] for k in ["id", "split", "caption_en", "trigger_words", "objects", "tags", "background"]}
        keep["note"] = "first %d frames of validation sample %s, halved to 128x128 (tests/reference/make_floor_set.py)" % (FRAMES, s)
        with open(os.path.join(dst, s, "meta.json"), "w") as f:
            json.dump(keep, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
