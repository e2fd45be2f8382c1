#!/usr/bin/python3
"""Second opinion for tests/test_png.c: decodes the PNGs it wrote with PIL
(an independent decoder) and compares the colour map with matplotlib's
RdYlGn. Exit 0 = agree, 1 = disagree, 77 = PIL or matplotlib missing.

Usage: png_ref.py FOLDER WIDTH HEIGHT
"""
import os
import sys

try:
    import numpy as np
    from PIL import Image
    import matplotlib
except ImportError as exc:  # pragma: no cover
    print("SKIPPED: %s" % exc)
    sys.exit(77)


def main(folder, w, h):
    ok = True
    raw = np.fromfile(os.path.join(folder, "rgb.raw"), dtype=np.uint8).reshape(h, w, 3)
    img = np.asarray(Image.open(os.path.join(folder, "rgb.png")))
    if img.shape != (h, w, 3) or not np.array_equal(img, raw):
        print("PIL: rgb.png differs from the pixels given")
        ok = False
    ramp = np.asarray(Image.open(os.path.join(folder, "ramp.png"))).astype(np.float64)
    cmap = matplotlib.colormaps["RdYlGn"]
    want = cmap(np.arange(256) / 255.0)[:, :3] * 255.0  # float, before any rounding
    err = np.abs(ramp[0] - want).max()
    print("colour map vs matplotlib RdYlGn: max |diff| %.3f levels" % err)
    if ramp.shape != (1, 256, 3) or err > 0.51:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
