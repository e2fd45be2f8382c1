#!/usr/bin/python3
"""numpy reference of the relative PLQ map (include/xfiq_quality.h):
A = m * mean_c |I_c - blur(I_c)|, blur the mean of the 3x3 window clipped at
the borders (here: NaN padding and nanmean over sliding windows),
P_rel = 1 - 1/(1 + (A / median_face(A))^b), the median over the default face
ellipse (centre 0.50 W, 0.57 H; semi-axes 0.36 W, 0.46 H; pixel centres).

Usage: plq_relative_ref.py GRAD_MAG.npy PIXELS.npy B OUT.npy
       (GRAD_MAG: N x H x W; PIXELS: N x H x W x C, the faces' 8-bit values)
"""
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

R = 1


def detail(px):
    """mean over channels of |I - local mean|, the window clipped at the borders."""
    px = px.astype(np.float64)
    pad = np.pad(px, ((R, R), (R, R), (0, 0)), constant_values=np.nan)
    win = sliding_window_view(pad, (2 * R + 1, 2 * R + 1), axis=(0, 1))  # H x W x C x k x k
    base = np.nanmean(win, axis=(-2, -1))
    return np.abs(px - base).mean(axis=-1)


def relative(g, px, b):
    n, h, w = g.shape
    y, x = np.mgrid[0:h, 0:w]
    u = (x + 0.5 - 0.50 * w) / (0.36 * w)
    v = (y + 0.5 - 0.57 * h) / (0.46 * h)
    face = u * u + v * v <= 1.0
    out = np.empty(g.shape, np.float64)
    for i in range(n):
        a = np.abs(g[i].astype(np.float64)) * detail(px[i])
        med = np.median(a[face])
        r = (a / med) ** b
        out[i] = r / (1.0 + r)
    return out


if __name__ == "__main__":
    g = np.load(sys.argv[1])
    px = np.load(sys.argv[2])
    np.save(sys.argv[4], relative(g, px, float(sys.argv[3])).astype(np.float32))
