#!/usr/bin/python3
"""numpy reference of the two EDC conventions of SPEC 12 (independent of
host/eval/edc.c), for tests/eval/test_edc_conventions.c.

Usage: ref_edc_conventions.py PAIRS.txt OUT.json
PAIRS.txt: lines "score label quality". OUT.json: for each case in CASES,
{"discard": [...], "fnmr": [...], "best": [...], "threshold": t, "auc": a,
"auc_best": b}.
"""
import json
import math
import sys

import numpy as np

CASES = {
    "fixed_fmr": dict(mode="fixed", fmr=1e-2, start=0.0, limit=0.2, best=False),
    "fixed_start": dict(mode="fixed", fmr=1e-3, start=0.1, limit=0.2, best=False),
    "fixed_start_best": dict(mode="fixed", fmr=1e-3, start=0.1, limit=0.3, best=True),
    "recompute": dict(mode="recompute", fmr=1e-2, limit=0.95, step=0.05),
}


def threshold_at_fmr(s, y, fmr):
    """Highest threshold (accept iff s >= t) with the lowest FNMR among those with FMR <= fmr."""
    gen, imp = s[y == 1], s[y == 0]
    cands = np.concatenate([[np.inf], np.unique(s)[::-1]])
    best_t, best_fnmr = np.inf, 1.0
    for t in cands:
        fm = np.mean(imp >= t)
        if fm > fmr:
            break  # FMR only grows as t falls
        fn = np.mean(gen < t)
        if fn < best_fnmr:
            best_fnmr, best_t = fn, t
    return best_t, best_fnmr


def step_area(x, yv, limit):
    a = 0.0
    for j in range(len(x)):
        if x[j] >= limit:
            break
        x1 = min(x[j + 1], limit) if j + 1 < len(x) else limit
        a += yv[j] * (x1 - x[j])
    return a


def fixed(s, y, q, c):
    n, G = len(s), int(y.sum())
    if c["start"] > 0:
        t = np.sort(s[y == 1])[min(int(math.floor(c["start"] * G)), G - 1)]
    else:
        t, _ = threshold_at_fmr(s, y, c["fmr"])
    levels = np.unique(q)
    disc, fn = [0.0], [np.mean(s[y == 1] < t)]
    for lv in levels:
        keep = q > lv
        g = y[keep] == 1
        if g.sum() == 0:
            break
        disc.append(1.0 - keep.mean() if False else float((~keep).sum()) / n)
        fn.append(float(np.mean(s[keep][g] < t)))
    R = int(np.sum((y == 1) & (s < t)))
    k = np.arange(n + 1)
    bfn = np.maximum(0, R - k) / np.maximum(1, G - np.minimum(k, R))
    bx = k / n
    best_at = [float(bfn[int(round(d * n))]) for d in disc]
    ab = step_area(bx, bfn, c["limit"])
    a = step_area(np.array(disc), np.array(fn), c["limit"]) - (ab if c["best"] else 0.0)
    return dict(discard=disc, fnmr=fn, best=best_at, threshold=float(t), auc=a, auc_best=ab)


def recompute(s, y, q, c):
    n = len(s)
    fracs = np.arange(0, c["limit"] + 1e-9, c["step"])
    order = np.argsort(q, kind="stable")
    fn = []
    for f in fracs:
        k = int(math.floor(f * n + 0.5))
        keep = order[k:]
        if y[keep].sum() in (0, len(keep)):
            fn.append(float("nan"))
            continue
        _, r = threshold_at_fmr(s[keep], y[keep], c["fmr"])
        fn.append(float(r))
    return dict(discard=[float(f) for f in fracs], fnmr=fn, auc=float(np.trapz(fn, fracs)))


def main(pairs, out):
    d = np.loadtxt(pairs)
    s, y, q = d[:, 0], d[:, 1].astype(int), d[:, 2]
    res = {name: (fixed if c["mode"] == "fixed" else recompute)(s, y, q, c) for name, c in CASES.items()}
    json.dump(res, open(out, "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
