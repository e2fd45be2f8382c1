#!/usr/bin/python3
"""numpy reference of the relative PLQ map (include/xfiq_quality.h):
P_rel = 1 - 1/(1 + (s / median_face(s))^b), s = m averaged over the 5x5
window clipped at the borders (an integral image here), the median over the
default face ellipse (centre 0.50 W, 0.57 H; semi-axes 0.36 W, 0.46 H; pixel
centres).

Usage: plq_relative_ref.py GRAD_MAG.npy B OUT.npy   (GRAD_MAG: N x H x W)
"""
import sys

import numpy as np


def relative(g, b):
    n, h, w = g.shape
    y, x = np.mgrid[0:h, 0:w]
    u = (x + 0.5 - 0.50 * w) / (0.36 * w)
    v = (y + 0.5 - 0.57 * h) / (0.46 * h)
    face = u * u + v * v <= 1.0
    out = np.empty(g.shape, np.float64)
    R = 2
    ys0, ys1 = np.maximum(np.arange(h) - R, 0), np.minimum(np.arange(h) + R, h - 1) + 1
    xs0, xs1 = np.maximum(np.arange(w) - R, 0), np.minimum(np.arange(w) + R, w - 1) + 1
    cnt = (ys1 - ys0)[:, None] * (xs1 - xs0)[None, :]
    for i in range(n):
        ii = np.zeros((h + 1, w + 1))
        ii[1:, 1:] = np.abs(g[i].astype(np.float64)).cumsum(0).cumsum(1)
        box = ii[ys1][:, xs1] - ii[ys0][:, xs1] - ii[ys1][:, xs0] + ii[ys0][:, xs0]
        sm = box / cnt
        med = np.median(sm[face])
        r = (sm / med) ** b
        out[i] = r / (1.0 + r)
    return out


if __name__ == "__main__":
    g = np.load(sys.argv[1])
    np.save(sys.argv[3], relative(g, float(sys.argv[2])).astype(np.float32))
