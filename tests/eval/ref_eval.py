#!/usr/bin/python3
"""ref_eval.py - numpy / scikit-learn / scipy reference of xfiq's evaluation
procedures (QMagFace scores and training, the three 10-fold protocols, ROC
figures, EDC, template aggregation), written independently of the C code from
SPEC sections 5-6 and host/eval/README.md. Used by the C tests
(tests/eval/test_eval_ref.c) and the benchmark peer.

  ref_eval.py synth DIR [--seed S]   write synthetic cases into DIR
  ref_eval.py run DIR                compute DIR/ref.json from DIR's inputs
  ref_eval.py evalset EMB.npy PAIRS.csv PARAMS.json|- TRAIN.csv|- OUT.json
                                     QMagFace-protocol accuracy and ROC figures of
                                     the pairs (rows a,b,label) for cosine and
                                     QMagFace (PARAMS), and training on TRAIN
"""
import json
import math
import os
import sys

import numpy as np
from scipy import interpolate
from scipy.optimize import brentq
from scipy.special import expit
from sklearn.linear_model import LinearRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

FMRS = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]


# ----------------------------------------------------------------- scores
def pair_scores(z, a, b, alpha=None, beta=None):
    """cosine, min magnitude and QMagFace score of pairs (float64)."""
    z = np.asarray(z, dtype=np.float64)
    e, norms = normalize(z, return_norm=True)
    s = np.sum(e[a] * e[b], axis=1)
    q = np.minimum(norms[a], norms[b])
    if alpha is None:
        return s, q, None
    omega = beta * s - alpha
    omega[omega >= 0] = 0
    return s, q, omega * q + s


def qmag(s, q, alpha, beta):
    omega = beta * s - alpha
    omega = np.where(omega >= 0, 0.0, omega)
    return omega * q + s


# ----------------------------------------------------------------- k-fold
def fold_splits(n, n_folds, folds):
    if folds is None:
        return list(KFold(n_splits=n_folds, shuffle=False).split(np.arange(n)))
    folds = np.asarray(folds)
    return [(np.where(folds != k)[0], np.where(folds == k)[0]) for k in range(n_folds)]


def accuracy(pred, labels):
    tp = np.sum(np.logical_and(pred, labels))
    tn = np.sum(np.logical_and(~pred, ~labels))
    return float(tp + tn) / pred.size


def kfold_best(values, labels, splits, thresholds, below):
    """Per fold: best training threshold (first maximum), test accuracy."""
    accs, thrs = [], []
    labels = labels.astype(bool)
    for train, test in splits:
        acc_train = np.zeros(len(thresholds))
        for i, t in enumerate(thresholds):
            pred = values[train] < t if below else values[train] > t
            acc_train[i] = accuracy(pred, labels[train])
        best = int(np.argmax(acc_train))
        t = thresholds[best]
        pred = values[test] < t if below else values[test] > t
        accs.append(accuracy(pred, labels[test]))
        thrs.append(float(t))
    return accs, thrs


def kfold_scores(scores, labels, splits):
    thr = np.linspace(np.min(scores), np.max(scores), 600)
    return kfold_best(scores, labels, splits, thr, below=False)


def val_far(dist, labels, splits, far_target=1e-3):
    thresholds = np.arange(0, 4, 0.001)
    labels = labels.astype(bool)
    vals, fars = [], []
    for train, test in splits:
        far_train = np.zeros(len(thresholds))
        n_diff = np.sum(~labels[train])
        for i, t in enumerate(thresholds):
            far_train[i] = float(np.sum(np.logical_and(dist[train] < t, ~labels[train]))) / float(n_diff)
        # insightface used interp1d(far_train, thresholds, kind='slinear'),
        # which scipy >= 1.10 refuses (far_train repeats values); defined here:
        # interpolate between the last threshold with FAR <= target and the
        # next one.
        if np.max(far_train) >= far_target:
            j = int(np.where(far_train <= far_target)[0][-1])
            if j == len(thresholds) - 1:
                t = thresholds[j]
            else:
                x0, x1, y0, y1 = far_train[j], far_train[j + 1], thresholds[j], thresholds[j + 1]
                t = y0 + (y1 - y0) * ((far_target - x0) / (x1 - x0))
        else:
            t = 0.0
        pred = dist[test] < t
        vals.append(float(np.sum(np.logical_and(pred, labels[test]))) / float(np.sum(labels[test])))
        fars.append(float(np.sum(np.logical_and(pred, ~labels[test]))) / float(np.sum(~labels[test])))
    return float(np.mean(vals)), float(np.std(vals)), float(np.mean(fars))


def protocol(name, z, a, b, labels, n_folds, folds, params):
    """One of the three protocols for cosine (params None) or QMagFace."""
    z = np.asarray(z, dtype=np.float64)
    splits = fold_splits(len(a), n_folds, folds)
    out = {}
    if name == 'qmagface':
        s, q, v = pair_scores(z, a, b, *(params or (None, None)))
        accs, thrs = kfold_scores(v if params else s, labels, splits)
    elif name == 'insightface':
        if params:
            s, q, v = pair_scores(z, a, b, *params)
            dist = 2.0 - 2.0 * v
        else:
            e = normalize(z)
            dist = np.sum(np.square(e[a] - e[b]), axis=1)
        accs, thrs = kfold_best(dist, labels, splits, np.arange(0, 4, 0.01), below=True)
        out['val'], out['val_std'], out['far'] = val_far(dist, labels, splits)
    else:  # magface
        _, q, _ = pair_scores(z, a, b)
        accs, thrs = [], []
        thresholds = np.arange(0, 4, 0.01)
        for k, (train, test) in enumerate(splits):
            mean = np.mean(np.concatenate([z[a[train]], z[b[train]]]), axis=0)
            x, y = z[a] - mean, z[b] - mean
            c = np.sum(x * y, axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
            if params:
                c = qmag(c, q, *params)
            dist = np.arccos(np.clip(c, -1.0, 1.0)) / math.pi
            acc, thr = kfold_best(dist, labels, [(train, test)], thresholds, below=True)
            accs += acc
            thrs += thr
    out['acc'] = accs
    out['thr'] = thrs
    out['acc_mean'] = float(np.mean(accs))
    out['acc_std'] = float(np.std(accs))
    return out


# --------------------------------------------------------------------- ROC
def roc_figures(scores, labels):
    fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=False)
    out = {'auc': float(roc_auc_score(labels, scores))}
    f = interpolate.interp1d(fpr, tpr)
    out['eer'] = float(brentq(lambda x: 1.0 - x - f(x), 0.0, 1.0, xtol=1e-14))
    out['fnmr'] = [float(np.min(1 - tpr[fpr <= m])) for m in FMRS]
    return out


def threshold_at(scores, labels, fmr):
    """Highest threshold reaching the lowest FNMR at FMR <= fmr (accept >= t)."""
    fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=False)
    ok = fpr <= fmr
    best = np.max(tpr[ok])
    i = int(np.argmax(tpr == best))
    return thr[i]


# ---------------------------------------------------------------- training
def train(s, q, y, weights_num=20, fmr_num=50, fmr_min=1e-5, fmr_max=1e-2, max_ratio=0.5):
    expo = np.linspace(math.log10(fmr_min), math.log10(fmr_max), fmr_num)
    fmrs = np.array([math.pow(10.0, x) for x in expo])  # libm pow
    fmrs[0], fmrs[-1] = fmr_min, fmr_max                # the ends exactly as given
    max_omega = max_ratio / np.max(q)
    omegas = np.linspace(-max_omega, max_omega, num=weights_num)
    thrs = np.zeros((weights_num, fmr_num))
    fnmrs = np.zeros((weights_num, fmr_num))
    for i, omega in enumerate(omegas):
        fpr, tpr, thr = roc_curve(y, expit(omega * q + s))
        for j, fmr in enumerate(fmrs):
            sel = 1 - tpr[fpr < fmr]
            k = int(np.argmin(sel))
            thrs[i, j] = thr[k]
            fnmrs[i, j] = sel[k]
    best = np.argmin(fnmrs, axis=0)
    ts = thrs[best, np.arange(fmr_num)]
    om = omegas[best]
    lr = LinearRegression().fit(ts.reshape(-1, 1), om)
    return {'alpha': float(-lr.intercept_), 'beta': float(lr.coef_[0]),
            'omega': om.tolist(), 'threshold': ts.tolist()}


# --------------------------------------------------------------------- EDC
def edc(scores, labels, pq, fmr, lo, hi, n_points, mode):
    labels = labels.astype(bool)
    n = len(scores)
    order = np.argsort(pq, kind='stable')
    fr = np.linspace(lo, hi, n_points)
    ks = np.clip(np.floor(fr * n + 0.5).astype(np.int64), 0, n)
    t = threshold_at(scores, labels, fmr)
    out = []
    for k in ks:
        keep = order[k:]
        g = labels[keep]
        if mode == 'fixed':
            out.append(float(np.sum(scores[keep][g] < t)) / np.sum(g) if np.sum(g) else float('nan'))
        else:
            if np.sum(g) == 0 or np.sum(~g) == 0:
                out.append(float('nan'))
                continue
            fpr, tpr, _ = roc_curve(g, scores[keep], drop_intermediate=False)
            out.append(float(np.min(1 - tpr[fpr <= fmr])))
    return {'discard': fr.tolist(), 'fnmr': out, 'auc': float(np.trapz(out, fr)),
            'threshold': float(t) if mode == 'fixed' else None}


# --------------------------------------------------------------- templates
def templates(z, tid, mid, pairs_t, agg, params):
    z = np.asarray(z, dtype=np.float64)
    e, norms = normalize(z, return_norm=True)
    ids = sorted(set(tid))
    feat, tq = {}, {}
    for t in ids:
        sel = np.where(tid == t)[0]
        if agg == 'mean':
            media = [np.mean(e[sel[mid[sel] == m]], axis=0) for m in sorted(set(mid[sel]))]
            f = np.mean(media, axis=0)
            tq[t] = float(np.mean(norms[sel]))
        else:
            f = np.sum(norms[sel][:, None] * e[sel], axis=0)
            tq[t] = float(np.sum(norms[sel] ** 2) / np.sum(norms[sel]))
        feat[t] = f / np.linalg.norm(f)
    s = np.array([feat[a] @ feat[b] for a, b in pairs_t])
    q = np.array([min(tq[a], tq[b]) for a, b in pairs_t])
    return s, (qmag(s, q, *params) if params else None)


# ------------------------------------------------------------ synthetic data
def synth(out_dir, seed):
    """Embeddings with known structure: identities = random directions,
    samples = direction + noise whose size falls with the magnitude (so the
    magnitude is a quality), plus duplicated rows and quantised scores that
    exercise ties."""
    rng = np.random.RandomState(seed)
    os.makedirs(out_dir, exist_ok=True)
    n_id, per, d = 150, 8, 64
    centers = normalize(rng.randn(n_id, d))
    rows, ident = [], []
    for i in range(n_id):
        for _ in range(per):
            mag = rng.uniform(10, 110)
            noise = rng.randn(d) * (6.5 / math.sqrt(mag)) / math.sqrt(d)
            v = centers[i] + noise
            rows.append(v / np.linalg.norm(v) * mag)
            ident.append(i)
    z = np.array(rows, dtype=np.float32)
    z[5] = z[3]        # exact duplicates: tied scores
    z[77] = z[70]
    ident = np.array(ident)
    np.save(os.path.join(out_dir, 'emb.npy'), z)
    n = len(z)
    gen = [(a, b) for a in range(n) for b in range(a + 1, n) if ident[a] == ident[b]]
    gen = [gen[i] for i in rng.permutation(len(gen))[:3000]]
    imp = []
    while len(imp) < 3000:
        a, b = rng.randint(0, n, 2)
        if ident[a] != ident[b]:
            imp.append((a, b))
    pairs = []
    for f in range(10):  # LFW style: 300 genuine then 300 impostor per fold
        pairs += [(a, b, 1) for a, b in gen[f * 300:(f + 1) * 300]]
        pairs += [(a, b, 0) for a, b in imp[f * 300:(f + 1) * 300]]
    pairs.append(pairs[0])  # a repeated pair: 6001 pairs, folds of 601/600
    with open(os.path.join(out_dir, 'pairs.csv'), 'w') as fp:
        for a, b, l in pairs:
            fp.write('%d,%d,%d\n' % (a, b, l))
    # scores with many ties (two decimals) and quantised qualities
    m = 4000
    lab = (rng.rand(m) < 0.4).astype(int)
    sc = np.round(np.where(lab == 1, rng.normal(0.55, 0.2, m), rng.normal(0.1, 0.15, m)), 2)
    qq = np.round(rng.uniform(10, 60, m))
    with open(os.path.join(out_dir, 'tied.csv'), 'w') as fp:
        for x, y, l in zip(sc, qq, lab):
            fp.write('%.17g,%.17g,%d\n' % (x, y, l))
    # a small template protocol: 60 templates of 1-4 media of 1-3 images
    with open(os.path.join(out_dir, 'ijb_media.txt'), 'w') as fp:
        t_id = {}
        for t in range(60):
            who = rng.randint(0, n_id)
            t_id[t] = who
            for m_ in range(rng.randint(1, 5)):
                for _ in range(rng.randint(1, 4)):
                    r = who * per + rng.randint(0, per)
                    fp.write('img_%d.jpg %d %d\n' % (r, 1000 + t, 50 * t + m_))
    with open(os.path.join(out_dir, 'ijb_pairs.txt'), 'w') as fp:
        for a in range(60):
            for b in range(a + 1, 60):
                if (a * 7 + b) % 3 == 0 or t_id[a] == t_id[b]:
                    fp.write('%d %d %d\n' % (1000 + a, 1000 + b, int(t_id[a] == t_id[b])))
    with open(os.path.join(out_dir, 'names.txt'), 'w') as fp:
        for r in range(n):
            fp.write('some/folder/img_%d.jpg\n' % r)


def load_pairs(path):
    p = np.loadtxt(path, delimiter=',', dtype=np.float64, ndmin=2)
    return p


def run(d):
    params = (0.077428, 0.125926)
    z = np.load(os.path.join(d, 'emb.npy'))
    p = load_pairs(os.path.join(d, 'pairs.csv')).astype(np.int64)
    a, b, y = p[:, 0], p[:, 1], p[:, 2]
    ref = {}
    s, q, v = pair_scores(z, a, b, *params)
    ref['scores'] = {'cos': s.tolist(), 'q': q.tolist(), 'qmag': v.tolist()}
    for name in ('qmagface', 'insightface', 'magface'):
        ref['kfold_' + name] = {'cos': protocol(name, z, a, b, y, 10, None, None),
                                'qmag': protocol(name, z, a, b, y, 10, None, params)}
    folds = np.repeat(np.arange(10), 600)[:len(a) - 1].tolist() + [0]
    ref['kfold_explicit'] = protocol('qmagface', z, a, b, y, 10, folds, None)
    ref['roc_cos'] = roc_figures(s, y)
    ref['roc_qmag'] = roc_figures(v, y)
    ref['train'] = train(s, q, y)
    ref['edc_fixed'] = edc(s, y, q, 1e-2, 0.0, 0.5, 26, 'fixed')
    ref['edc_recompute'] = edc(s, y, q, 1e-2, 0.0, 0.5, 11, 'recompute')
    t = load_pairs(os.path.join(d, 'tied.csv'))
    ts, tq, ty = t[:, 0], t[:, 1], t[:, 2].astype(np.int64)
    ref['tied_roc'] = roc_figures(ts, ty)
    ref['tied_kfold'] = protocol_scores(ts, ty)
    ref['tied_kfold_dist'] = kfold_dist_only(1.0 - ts, ty)
    ref['tied_train'] = train(ts, tq, ty)
    ref['tied_edc'] = edc(ts, ty, tq, 1e-2, 0.0, 0.8, 17, 'fixed')
    ref['tied_edc_recompute'] = edc(ts, ty, tq, 1e-2, 0.0, 0.8, 17, 'recompute')
    med = np.loadtxt(os.path.join(d, 'ijb_media.txt'), dtype=str, ndmin=2)
    rows = np.array([int(x[4:-4]) for x in med[:, 0]])
    tid, mid = med[:, 1].astype(np.int64), med[:, 2].astype(np.int64)
    tp = np.loadtxt(os.path.join(d, 'ijb_pairs.txt'), dtype=np.int64, ndmin=2)
    zr = np.asarray(z, dtype=np.float64)[rows]
    for agg in ('mean', 'magnitude'):
        s_t, v_t = templates(zr, tid, mid, [tuple(x) for x in tp[:, :2]], agg, params)
        ref['ijb_' + agg] = {'cos': s_t.tolist(), 'qmag': v_t.tolist(),
                             'roc': roc_figures(s_t, tp[:, 2])}
    with open(os.path.join(d, 'ref.json'), 'w') as fp:
        json.dump(ref, fp)


def protocol_scores(s, y):
    splits = fold_splits(len(s), 10, None)
    accs, thrs = kfold_scores(s, y, splits)
    return {'acc': accs, 'thr': thrs, 'acc_mean': float(np.mean(accs)), 'acc_std': float(np.std(accs))}


def kfold_dist_only(dist, y):
    splits = fold_splits(len(dist), 10, None)
    accs, thrs = kfold_best(dist, y, splits, np.arange(0, 4, 0.01), below=True)
    v = val_far(dist, y, splits)
    return {'acc': accs, 'thr': thrs, 'acc_mean': float(np.mean(accs)),
            'acc_std': float(np.std(accs)), 'val': v[0], 'val_std': v[1], 'far': v[2]}


def evalset(emb, pairs, params, train_pairs, out):
    z = np.load(emb)
    p = load_pairs(pairs).astype(np.int64)
    a, b, y = p[:, 0], p[:, 1], p[:, 2]
    folds = p[:, 3] if p.shape[1] > 3 else None   # the file's folds
    nf = int(np.max(folds)) + 1 if folds is not None else 10
    res = {}
    prm = None
    if params != '-':
        j = json.load(open(params))
        prm = (j['alpha'], j['beta'])
    s, q, v = pair_scores(z, a, b, *(prm or (None, None)))
    res['cos'] = protocol('qmagface', z, a, b, y, nf, folds, None)
    res['cos'].update(roc_figures(s, y))
    if prm:
        res['qmag'] = protocol('qmagface', z, a, b, y, nf, folds, prm)
        res['qmag'].update(roc_figures(v, y))
    if train_pairs != '-':
        t = load_pairs(train_pairs).astype(np.int64)
        ts, tq, _ = pair_scores(z, t[:, 0], t[:, 1])
        res['train'] = train(ts, tq, t[:, 2])
    with open(out, 'w') as fp:
        json.dump(res, fp)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'synth':
        seed = int(sys.argv[4]) if len(sys.argv) >= 5 and sys.argv[3] == '--seed' else 7
        synth(sys.argv[2], seed)
    elif len(sys.argv) == 3 and sys.argv[1] == 'run':
        run(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == 'evalset':
        evalset(*sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
