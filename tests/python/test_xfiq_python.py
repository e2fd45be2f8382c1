#!/usr/bin/python3
"""Tests of the Python package (python/, installed by run_python_test.sh):
the same faces through `import xfiq` and through the xfiq CLI give the same
embeddings, SER-FIQ and PLQ maps; decoding equals Pillow; 10-fold accuracy
and both EDC conventions equal numpy references; errors raise XfiqError with
libxfiq's message.

Usage: test_xfiq_python.py XFIQ_BIN SOURCE_DIR DATA_DIR WORK_DIR
"""
import csv
import glob
import os
import subprocess
import sys

import numpy as np

import xfiq

fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAILED:", what)


def kfold_ref(s, y, n_folds=10):
    """QMagFace protocol in numpy: 600 thresholds linspace(min, max), genuine iff s > t, consecutive folds."""
    n = len(s)
    ths = np.linspace(s.min(), s.max(), 600)
    sizes = [n // n_folds + (1 if i < n % n_folds else 0) for i in range(n_folds)]
    edges = np.cumsum([0] + sizes)
    acc = []
    for k in range(n_folds):
        test = np.zeros(n, bool)
        test[edges[k]:edges[k + 1]] = True
        tr_acc = [np.mean((s[~test] > t) == (y[~test] == 1)) for t in ths]
        t = ths[int(np.argmax(tr_acc))]
        acc.append(np.mean((s[test] > t) == (y[test] == 1)))
    return np.array(acc)


def main(bin_, src, data, work):
    os.makedirs(work, exist_ok=True)
    model = os.path.join(src, "models", ".cache", "fr_feature.onnx")
    lfw = os.path.join(data, "lfw-folds12", "aligned_112x112")
    if not os.path.isfile(model) or not os.path.isdir(lfw):
        print("SKIPPED: needs the default model and", lfw)
        return 77
    print("xfiq package", xfiq.__version__, "library", xfiq._lib._find())
    files = sorted(glob.glob(os.path.join(lfw, "*", "*.jpg")))[::60][:24]
    lst = os.path.join(work, "faces.txt")
    open(lst, "w").write("".join(f + "\n" for f in files))

    m = xfiq.Model(model)
    check(m.calibrated and m.info["embedding_dim"] == 512, "model info %s" % m.info)
    faces = xfiq.load_faces(files, size=m.input_size)

    # decoding equals Pillow
    try:
        from PIL import Image
        d = max(int(np.abs(xfiq.load_image(f).astype(int) - np.asarray(Image.open(f)).astype(int)).max()) for f in files)
        print("load_image vs Pillow on %d LFW JPEGs: max |diff| %d" % (len(files), d))
        check(d == 0, "decoding differs from Pillow")
    except ImportError:
        check(False, "Pillow (python3-pil) is not installed")

    # embeddings vs `xfiq embed`
    subprocess.check_call([bin_, "embed", "-q", "-m", model, "-o", os.path.join(work, "emb"), "@" + lst])
    cli_e = np.load(os.path.join(work, "emb", "embeddings.npy"))
    e, mag = m.embed(faces)
    de = float(np.abs(cli_e - e).max())
    print("embed: %d faces, max |python - CLI| %.3g" % (len(files), de))
    check(de <= 1e-6 * float(np.abs(cli_e).max()), "embeddings differ from the CLI's")
    check(np.allclose(xfiq.magnitudes(e), np.linalg.norm(e.astype(np.float64), axis=1), rtol=1e-12), "magnitudes")

    # SER-FIQ vs `xfiq quality` (same T, seed, image ids = list order)
    qcsv = os.path.join(work, "q.csv")
    subprocess.check_call([bin_, "quality", "-q", "-T", "20", "-m", model, "-o", qcsv, "@" + lst])
    rows = list(csv.DictReader(open(qcsv)))
    q = m.serfiq(faces, T=20)
    dq = max(abs(float(r["serfiq_raw"]) - q["serfiq_raw"][i]) for i, r in enumerate(rows))
    ds = max(abs(float(r["serfiq"]) - q["serfiq"][i]) for i, r in enumerate(rows))
    print("serfiq: max |python - CLI| raw %.3g, scaled %.3g; CSV calibration column '%s'" % (dq, ds, rows[0]["calibration"]))
    check(dq < 1e-6 and ds < 1e-6 and rows[0]["calibration"] == "calibrated", "SER-FIQ differs from the CLI's")

    # PLQ maps vs `xfiq plq` (.npy holds the absolute and the relative map)
    few = os.path.join(work, "few.txt")
    open(few, "w").write("".join(f + "\n" for f in files[:4]))
    subprocess.check_call([bin_, "plq", "-q", "-T", "20", "--no-png", "-m", model, "-o", os.path.join(work, "plq"),
                           "@" + few])
    p = m.plq(faces[:4], T=20)
    dm = dr = 0.0
    for i in range(4):
        a = np.load(sorted(glob.glob(os.path.join(work, "plq", "maps", "%06d_*.npy" % i)))[0])
        check(a.shape == (2, 112, 112), "plq .npy shape %s" % (a.shape,))
        dm = max(dm, float(np.abs(a[0] - p["map"][i]).max()))
        dr = max(dr, float(np.abs(a[1] - p["relative"][i]).max()))
    print("plq: max |python - CLI| map %.3g, relative map %.3g" % (dm, dr))
    check(dm < 1e-6 and dr < 1e-6, "PLQ maps differ from the CLI's")
    check(np.allclose(xfiq.plq_relative(p["grad_mag"][0], faces[0]), p["relative"][0]), "plq_relative")

    # pair scores, QMagFace, 10-fold accuracy and EDC on synthetic pairs vs numpy
    rng = np.random.default_rng(5)
    z = rng.normal(size=(50, 16)).astype(np.float32)
    ia, ib = rng.integers(0, 50, 400), rng.integers(0, 50, 400)
    cos, qq, qm = xfiq.pair_scores(z, ia, ib, qmag="magface-100")
    zn = z.astype(np.float64)
    ref = np.sum(zn[ia] * zn[ib], 1) / np.linalg.norm(zn[ia], axis=1) / np.linalg.norm(zn[ib], axis=1)
    qr = np.minimum(np.linalg.norm(zn[ia], axis=1), np.linalg.norm(zn[ib], axis=1))
    qmr = ref + np.minimum(0, 0.125926 * ref - 0.077428) * qr
    check(np.abs(cos - ref).max() < 1e-12 and np.abs(qm - qmr).max() < 1e-12, "pair scores / QMagFace")
    y = (rng.random(1000) < 0.5).astype(np.uint8)
    s = rng.normal(size=1000) + 1.5 * y
    k = xfiq.kfold_accuracy(s, y)
    kr = kfold_ref(s, y)
    print("kfold: mean %.4f (numpy %.4f), max fold diff %.3g" % (k["mean"], kr.mean(), np.abs(k["accuracy"] - kr).max()))
    check(np.abs(k["accuracy"] - kr).max() < 1e-12, "10-fold accuracy differs from numpy")
    sys.path.insert(0, os.path.join(src, "tests", "eval"))
    import ref_edc_conventions as R
    pq = np.floor(rng.random(1000) * 30) / 30
    for name, c in R.CASES.items():
        if c["mode"] == "fixed":
            r = xfiq.edc(s, y, pq, "fixed", fmr=c["fmr"], start_fnmr=c["start"], discard_limit=c["limit"],
                         subtract_best=c["best"])
            rr = R.fixed(s, y.astype(int), pq, c)
        else:
            r = xfiq.edc(s, y, pq, "recompute", fmr=c["fmr"], discard_limit=c["limit"], step=c["step"])
            rr = R.recompute(s, y.astype(int), pq, c)
        ok = len(r["fnmr"]) == len(rr["fnmr"]) and np.allclose(r["fnmr"], rr["fnmr"], atol=1e-12, equal_nan=True) \
            and abs(r["auc"] - rr["auc"]) < 1e-12
        print("edc %-17s %-40s %d points, area %.6f: %s" % (name, r["convention"], len(r["fnmr"]), r["auc"],
                                                            "equal to numpy" if ok else "DIFFERS"))
        check(ok, "EDC %s differs from numpy" % name)

    # errors carry libxfiq's message
    try:
        xfiq.Model(os.path.join(work, "missing.onnx"))
        check(False, "no error for a missing model")
    except xfiq.XfiqError as ex:
        print("error raised:", ex)
        check(ex.status == "XFIQ_ERR_IO" and "missing.onnx" in ex.message, "error message")
    try:
        m.embed(np.zeros((2, 50, 50, 3), np.uint8))
        check(False, "no error for a wrong shape")
    except ValueError:
        pass
    m.close()
    print("FAILED: %d check(s)" % fails if fails else "PASSED")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
