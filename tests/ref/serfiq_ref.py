#!/usr/bin/python3
"""Independent reference for tests/test_serfiq_math.c (host/quality).

Reads the exchange folder the C test wrote and answers with float64 / uint8
files, computed here from the definitions only:
  - SER-FIQ: sklearn-style row normalisation, the naive O(T^2 D) mean of
    ||x_i - x_j|| over i < j, q_raw = 2/(1+exp(d)), Q = sigmoid(alpha(q_raw-r));
  - masks: a vectorised NumPy Philox4x32-10 (checked first against the
    Random123 known-answer vectors) with the stream layout of
    host/quality/philox.h, and the stochastic heads in float64;
  - PLQ map: m = mean_c |g|, P = 1 - 1/(1 + a m^b), face-region mean;
  - regression seeds and the L2-normalisation backward: PyTorch autograd in
    float64 on the definitions of the modes (host/quality/plq_regress.h);
  - ReLU / PReLU backward: PyTorch autograd;
  - percentiles: numpy.percentile (linear).
Exit code 77 when NumPy or PyTorch is missing.

Usage: serfiq_ref.py EXCHANGE_DIR
"""
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as exc:  # pragma: no cover
    print("SKIPPED: %s" % exc)
    sys.exit(77)

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32_10(ctr, key):
    """ctr: 4 arrays (uint64 holding 32-bit words), key: 2 Python ints."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & MASK32 for c in ctr)
    k0, k1 = key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF
    for rnd in range(10):
        if rnd:
            k0 = (k0 + W0) & 0xFFFFFFFF
            k1 = (k1 + W1) & 0xFFFFFFFF
        p0 = M0 * c0  # < 2^64, no overflow in uint64
        p1 = M1 * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c0, c1, c2, c3 = (hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0)
    return c0, c1, c2, c3


def check_kat():
    kats = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for ctr, key, want in kats:
        got = tuple(int(w) for w in philox4x32_10([np.array([c]) for c in ctr], key))
        assert got == want, "reference Philox fails its KAT: %s" % (got,)


def keep_bits(seed, p, kind, dim, spatial, ids, T):
    """uint8 (B, T, dim): 1 = keep, per the layout documented in philox.h."""
    units = dim // spatial if kind == 1 else dim
    p32 = float(np.float32(p))
    out = np.zeros((len(ids), T, dim), dtype=np.uint8)
    u = np.arange(units, dtype=np.uint64)
    for b, image in enumerate(ids):
        for t in range(T):
            words = philox4x32_10(
                [u >> np.uint64(2), np.full_like(u, t), np.full_like(u, image & 0xFFFFFFFF),
                 np.full_like(u, image >> 32)],
                (seed & 0xFFFFFFFF, seed >> 32))
            w = np.choose((u & np.uint64(3)).astype(np.int64), words)
            uni = (w >> np.uint64(8)).astype(np.float64) * 2.0 ** -24
            keep = (uni >= p32).astype(np.uint8)
            out[b, t] = np.repeat(keep, spatial) if kind == 1 else keep
    return out


def serfiq_naive(x, alpha, r):
    x = x.astype(np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    x = np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)
    T = x.shape[0]
    dists = [np.linalg.norm(x[i] - x[j]) for i in range(T) for j in range(i + 1, T)]
    d = float(np.mean(dists))
    q_raw = 2.0 / (1.0 + np.exp(d))
    q = 1.0 / (1.0 + np.exp(-alpha * (q_raw - r)))
    return np.array([d, q_raw, q], dtype=np.float64)


def main(folder):
    check_kat()
    f = lambda name: os.path.join(folder, name)  # noqa: E731

    for line in open(f("serfiq_cases.txt")):
        c, T, D, alpha, r = line.split()
        x = np.fromfile(f("serfiq_%s.f32" % c), dtype="<f4").reshape(int(T), int(D))
        serfiq_naive(x, float(alpha), float(r)).tofile(f("serfiq_%s.ref" % c))

    cases = {}
    for line in open(f("mask_cases.txt")):
        tok = line.split()
        name, seed, p, kind, dim, spatial, B, T = tok[:8]
        ids = [int(v) for v in tok[8:8 + int(B)]]
        bits = keep_bits(int(seed), float(p), int(kind), int(dim), int(spatial), ids, int(T))
        bits.tofile(f("mask_%s.ref" % name))
        cases[name] = (float(p), int(dim), int(B), int(T), bits)

    name, dout, alpha, r = open(f("heads.txt")).read().split()
    p, din, B, T, bits = cases[name]
    x = np.fromfile(f("heads_x.f32"), dtype="<f4").reshape(B, din).astype(np.float64)
    w = np.fromfile(f("heads_w.f32"), dtype="<f4").reshape(int(dout), din).astype(np.float64)
    scale = float(np.float32(1.0) / (np.float32(1.0) - np.float32(p)))
    res = []
    for b in range(B):
        emb = (x[b][None, :] * bits[b] * scale) @ w.T  # (T, dout)
        res.append(serfiq_naive(emb, float(alpha), float(r)))
    np.array(res, dtype=np.float64).tofile(f("heads.ref"))

    for line in open(f("plq_cases.txt")):
        c, C, H, W, a, b = line.split()
        g = np.fromfile(f("plq_%s.f32" % c), dtype="<f4").reshape(int(C), int(H), int(W)).astype(np.float64)
        m = np.abs(g).mean(axis=0)
        P = 1.0 - 1.0 / (1.0 + float(a) * m ** float(b))
        extra = [0.0]
        if c == "0":
            mask = np.fromfile(f("plq_mask.u8"), dtype=np.uint8).reshape(int(H), int(W)) != 0
            extra = [float(P.astype(np.float32)[mask].astype(np.float64).mean())]
        np.concatenate([m.ravel(), P.ravel(), extra]).astype(np.float64).tofile(f("plq_%s.ref" % c))

    torch.set_default_dtype(torch.float64)
    for line in open(f("seed_cases.txt")):
        c, D, Q = line.split()
        Q = float(Q)
        z0 = torch.from_numpy(np.fromfile(f("seed_z_%s.f32" % c), dtype="<f4").astype(np.float64))
        e0 = z0 / z0.norm()
        s0 = torch.sign(e0)
        modes = {
            "paper": (lambda z: (Q / e0.sum()) * torch.nn.functional.normalize(z, dim=0).sum(), e0.sum()),
            "signed": (lambda z: Q * (s0 * torch.nn.functional.normalize(z, dim=0)).sum() / (s0 * e0).sum(),
                       e0.abs().sum()),
            "magnitude": (lambda z: Q * (e0 * z).sum() / z0.norm(), z0.norm()),
        }
        for mode, (qhat, denom) in modes.items():
            z = z0.clone().requires_grad_(True)
            out = qhat(z)
            assert abs(float(out) - Q) < 1e-9 * max(1.0, abs(Q)), (mode, float(out), Q)  # Qhat(I) = Q
            out.backward()
            np.concatenate([z.grad.numpy(), [float(denom)]]).astype(np.float64).tofile(
                f("seed_%s_%s.ref" % (c, mode)))
        g = torch.from_numpy(np.fromfile(f("seed_g_%s.f32" % c), dtype="<f4").astype(np.float64))
        z = z0.clone().requires_grad_(True)
        (torch.nn.functional.normalize(z, dim=0) * g).sum().backward()
        z.grad.numpy().astype(np.float64).tofile(f("l2bw_%s.ref" % c))

    buf = np.fromfile(f("act.f32"), dtype="<f4").astype(np.float64)
    n = (buf.size - 1) // 2
    x, dy, slope = buf[:n], buf[n:2 * n], buf[2 * n]
    xr = torch.from_numpy(x).requires_grad_(True)
    torch.relu(xr).backward(torch.from_numpy(dy))
    xp = torch.from_numpy(x).requires_grad_(True)
    torch.nn.functional.prelu(xp, torch.tensor([slope])).backward(torch.from_numpy(dy))
    np.concatenate([xr.grad.numpy(), xp.grad.numpy()]).astype(np.float64).tofile(f("act.ref"))

    q = np.fromfile(f("calib.f64"), dtype="<f8")
    np.percentile(q, [5, 50, 95, 37.5]).astype(np.float64).tofile(f("calib.ref"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
