#!/usr/bin/python3
"""numpy reference of the relative PLQ map (include/xfiq_quality.h):
P_rel = 1 - 1/(1 + (m / median_face(m))^b), the median over the default face
ellipse (centre 0.50 W, 0.57 H; semi-axes 0.36 W, 0.46 H; pixel centres).

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
    for i in range(n):
        med = np.median(g[i][face].astype(np.float64))
        r = (np.abs(g[i].astype(np.float64)) / med) ** b
        out[i] = r / (1.0 + r)
    return out


if __name__ == "__main__":
    g = np.load(sys.argv[1])
    np.save(sys.argv[3], relative(g, float(sys.argv[2])).astype(np.float32))
