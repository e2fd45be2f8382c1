#!/usr/bin/python3
"""bench_eval_peer.py DIR - the numpy / scikit-learn side of bench_eval: the
same four jobs on the same data (written by bench_eval into DIR), timed,
results and seconds written to DIR/peer.json. The procedures are those of
tests/eval/ref_eval.py (the reference the tests hold xfiq to)."""
import json
import os
import sys
import time

import numpy as np
from sklearn.preprocessing import normalize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'eval'))
import ref_eval  # noqa: E402

ALPHA, BETA = 0.077428, 0.125926


def best_of(reps, fn):
    best, out = float('inf'), None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def qmag_pairs(z, a, b):
    """QMagFace scores of listed pairs as one writes it in numpy (float32)."""
    e, norms = normalize(z, return_norm=True)
    s = np.sum(e[a] * e[b], axis=1)
    q = np.minimum(norms[a], norms[b])
    omega = BETA * s - ALPHA
    omega[omega >= 0] = 0
    return omega * q + s


def qmag_block(g, p):
    eg, qg = normalize(g, return_norm=True)
    ep, qp = normalize(p, return_norm=True)
    s = eg @ ep.T
    q = np.minimum(qg[:, None], qp[None, :])
    omega = BETA * s - ALPHA
    omega[omega >= 0] = 0
    return omega * q + s


def main(d):
    cfg = json.load(open(os.path.join(d, 'config.json')))
    reps = cfg['reps']
    z = np.load(os.path.join(d, 'emb.npy'))
    pairs = np.fromfile(os.path.join(d, 'pairs.i64'), dtype=np.int64).reshape(-1, 2)
    out = {}
    t, v = best_of(reps, lambda: qmag_pairs(z, pairs[:, 0], pairs[:, 1]))
    out['pairs_s'], out['pairs_check'] = t, float(np.sum(v, dtype=np.float64))
    nb = cfg['block']
    t, v = best_of(min(reps, 2), lambda: qmag_block(z[:nb], z[-nb:]))
    out['block_s'], out['block_check'] = t, float(np.sum(v[:100, :100], dtype=np.float64))
    del v
    ev = np.fromfile(os.path.join(d, 'eval.i64'), dtype=np.int64).reshape(-1, 3)

    def full_eval():
        a, b, y = ev[:, 0], ev[:, 1], ev[:, 2]
        res = {}
        for name, params in (('cos', None), ('qmag', (ALPHA, BETA))):
            k = ref_eval.protocol('qmagface', z, a, b, y, 10, None, params)
            s, q, v = ref_eval.pair_scores(z, a, b, ALPHA, BETA)
            r = ref_eval.roc_figures(v if params else s, y)
            res[name] = {'acc': k['acc_mean'], 'eer': r['eer'], 'fnmr2': r['fnmr'][1], 'auc': r['auc']}
        return res
    t, v = best_of(reps, full_eval)
    out['eval_s'], out['eval'] = t, v
    tr = np.fromfile(os.path.join(d, 'train.f64'), dtype=np.float64).reshape(-1, 3)
    t, v = best_of(reps, lambda: ref_eval.train(tr[:, 0], tr[:, 1], tr[:, 2].astype(np.int64)))
    out['train_s'], out['alpha'], out['beta'] = t, v['alpha'], v['beta']
    json.dump(out, open(os.path.join(d, 'peer.json'), 'w'))


if __name__ == '__main__':
    main(sys.argv[1])
