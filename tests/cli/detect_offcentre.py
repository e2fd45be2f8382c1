#!/usr/bin/python3
"""detect_offcentre.py SRC DST - re-crops every aligned LFW face of SRC off
centre into DST (same relative paths): each 112x112 crop is scaled by a
random factor in [0.9, 1.8], placed at a random position inside a 250x250
canvas (LFW's original size) and the rest filled with a random grey plus
noise, then saved as JPEG (quality 95). Seeded: the same files every run."""
import os
import sys

import numpy as np
from PIL import Image

src, dst = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20261205)
n = 0
for root, _, files in sorted(os.walk(src)):
    for f in sorted(files):
        if not f.endswith(".jpg"):
            continue
        im = Image.open(os.path.join(root, f)).convert("RGB")
        side = int(round(112 * rng.uniform(0.9, 1.8)))
        x0, y0 = (int(v) for v in rng.integers(0, 250 - side + 1, size=2))
        canvas = rng.normal(rng.uniform(40, 215), 12, size=(250, 250, 3)).clip(0, 255).astype(np.uint8)
        canvas = Image.fromarray(canvas)
        canvas.paste(im.resize((side, side), Image.BICUBIC), (x0, y0))
        out = os.path.join(dst, os.path.relpath(root, src))
        os.makedirs(out, exist_ok=True)
        canvas.save(os.path.join(out, f), quality=95)
        n += 1
print("detect_offcentre.py: %d faces re-cropped into %s" % (n, dst))
