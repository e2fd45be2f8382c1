#!/usr/bin/python3
"""ops_bwd_torch_ref.py - independent PyTorch autograd reference for the
xfiq backward-data ops (host/ops/ops_bwd_cpu.h).

Writes into OUTDIR a list of cases (cases.txt, one line per case) and, per
case, raw little-endian float32 files NAME_<tensor>.bin: the float32 inputs
(the forward's inputs and the output gradient dy) and the expected input
gradients, computed by torch.autograd in float64 from those same float32
values. tests/test_ops_bwd.c (--torch) runs the xfiq ops on the inputs and
compares. Exit code 77 when torch is not importable (the test then skips).

cases.txt line formats (all integers):
  conv NAME n cin cout group kh kw sh sw dh dw pad_t pad_l pad_b pad_r ih iw oh ow   (dy, w -> dx)
  gemm NAME n k m                                   (dy, w -> dx)
  affine NAME n c spatial                           (dy, scale -> dx)
  prelu NAME n c spatial per_channel                (dy, x, slope -> dx)
  relu NAME count                                   (dy, x -> dx)
  binary NAME op count                              (dy, a, b -> da, db)
  binconst NAME op const_first n per_sample         (dy, x, k -> dx)
  gap NAME n c spatial                              (dy -> dx)
op: 0 add, 1 sub, 2 mul, 3 div.
"""
import sys

from case_files import Cases, uniform

import torch
import torch.nn.functional as F

cases = Cases(sys.argv[1], 4321)
lines, save = cases.lines, cases.save


def grads(f, *inputs):
    """float64 autograd of sum(f(inputs) * dy) w.r.t. each float32 input; dy is
    the last argument and is not differentiated."""
    leaves = [t.double().requires_grad_(True) for t in inputs[:-1]]
    y = f(*leaves)
    y.backward(inputs[-1].double())
    return [t.grad for t in leaves]


def conv(name, n, cin, cout, group, k, s, pads, ih, iw, dil=(1, 1), kw=None, sw=None):
    kh = k
    kw = k if kw is None else kw
    sh = s
    sw = s if sw is None else sw
    pt, pl, pb, pr = pads
    dh, dw = dil
    w = uniform(cout, cin // group, kh, kw, a=(cin // group * kh * kw) ** -0.5)

    def f(x):
        return F.conv2d(F.pad(x, (pl, pr, pt, pb)), w.double(), None, stride=(sh, sw), dilation=(dh, dw),
                        groups=group)

    with torch.no_grad():
        oh, ow = f(torch.zeros(1, cin, ih, iw, dtype=torch.float64)).shape[2:]
    dy = uniform(n, cout, oh, ow)
    (dx,) = grads(f, uniform(n, cin, ih, iw), dy)
    for key, t in (("dy", dy), ("w", w), ("dx", dx)):
        save(name, key, t)
    lines.append("conv %s %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d" % (
        name, n, cin, cout, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ih, iw, oh, ow))


def gemm(name, n, k, m):
    w = uniform(m, k, a=k ** -0.5)
    dy = uniform(n, m)
    (dx,) = grads(lambda x: F.linear(x, w.double()), uniform(n, k), dy)
    for key, t in (("dy", dy), ("w", w), ("dx", dx)):
        save(name, key, t)
    lines.append("gemm %s %d %d %d" % (name, n, k, m))


def elementwise():
    n, c, h, w = 3, 6, 19, 23
    x = uniform(n, c, h, w, a=2.0)
    x[0, 0, 0, :5] = 0.0  # the kink: ReLU/PReLU take the x <= 0 branch there
    dy = uniform(n, c, h, w)
    scale = uniform(c, a=1.5)
    (dx,) = grads(lambda t: t * scale.double().view(1, c, 1, 1) + 0.25, x, dy)
    for key, t in (("dy", dy), ("scale", scale), ("dx", dx)):
        save("affine", key, t)
    lines.append("affine affine %d %d %d" % (n, c, h * w))
    for pc in (0, 1):
        slope = uniform(c if pc else 1, a=0.5)
        name = "prelu%d" % pc
        (dx,) = grads(lambda t: F.prelu(t, slope.double()), x, dy)
        for key, t in (("dy", dy), ("x", x), ("slope", slope), ("dx", dx)):
            save(name, key, t)
        lines.append("prelu %s %d %d %d %d" % (name, n, c, h * w, pc))
    (dx,) = grads(F.relu, x, dy)
    for key, t in (("dy", dy), ("x", x), ("dx", dx)):
        save("relu", key, t)
    lines.append("relu relu %d" % x.numel())
    x2 = uniform(n, c, h, w, a=2.0)
    x2 = torch.where(x2 >= 0, x2 + 0.5, x2 - 0.5)
    ops = [torch.add, torch.sub, torch.mul, torch.div]
    for op, f in enumerate(ops):
        name = "bin%d" % op
        da, db = grads(f, x, x2, dy)
        for key, t in (("dy", dy), ("a", x), ("b", x2), ("da", da), ("db", db)):
            save(name, key, t)
        lines.append("binary %s %d %d" % (name, op, x.numel()))
        for cf in (0, 1):
            name = "binc%d_%d" % (op, cf)
            kc = x2[0]
            xx = x2 if cf else x  # k / x needs x away from 0
            (dx,) = grads((lambda t: f(kc.double(), t)) if cf else (lambda t: f(t, kc.double())), xx, dy)
            for key, t in (("dy", dy), ("x", xx), ("k", kc), ("dx", dx)):
                save(name, key, t)
            lines.append("binconst %s %d %d %d %d" % (name, op, cf, n, c * h * w))
    dyp = uniform(n, c, 1, 1)
    (dx,) = grads(lambda t: F.adaptive_avg_pool2d(t, 1), x, dyp)
    for key, t in (("dy", dyp), ("dx", dx)):
        save("gap", key, t)
    lines.append("gap gap %d %d %d" % (n, c, h * w))


# Convolutions: the layer kinds of the two face-network families, small
# enough to keep the test quick, plus the awkward corners.
conv("stem_s1", 2, 3, 32, 1, 3, 1, (1, 1, 1, 1), 24, 24)
conv("stem_s2", 2, 3, 16, 1, 3, 2, (1, 1, 1, 1), 31, 29)
conv("c3x3_s1", 3, 32, 40, 1, 3, 1, (1, 1, 1, 1), 14, 14)
conv("c3x3_s2", 2, 48, 64, 1, 3, 2, (1, 1, 1, 1), 14, 14)
conv("c3x3_7x7_deep", 2, 256, 36, 1, 3, 1, (1, 1, 1, 1), 7, 7)
conv("c1x1_s1", 3, 64, 128, 1, 1, 1, (0, 0, 0, 0), 28, 28)
conv("c1x1_s2", 2, 64, 48, 1, 1, 2, (0, 0, 0, 0), 14, 14)
conv("c1x1_1x1", 5, 512, 72, 1, 1, 1, (0, 0, 0, 0), 1, 1)
conv("dw3x3_s1", 3, 64, 64, 64, 3, 1, (1, 1, 1, 1), 28, 28)
conv("dw3x3_s2", 2, 32, 32, 32, 3, 2, (1, 1, 1, 1), 28, 28)
conv("dw7x7_gdc", 4, 128, 128, 128, 7, 1, (0, 0, 0, 0), 7, 7)
conv("dw_dil", 2, 8, 8, 8, 3, 1, (2, 2, 2, 2), 9, 10, dil=(2, 2))
conv("asym_pad", 2, 10, 14, 1, 3, 1, (0, 1, 2, 1), 12, 9)
conv("dilated", 2, 12, 18, 1, 3, 1, (2, 2, 2, 2), 13, 13, dil=(2, 2))
conv("rect", 2, 6, 10, 1, 3, 1, (1, 2, 0, 1), 11, 16, kw=5, sw=2)
conv("group2", 2, 16, 24, 2, 3, 1, (1, 1, 1, 1), 9, 9)
conv("group4", 3, 32, 16, 4, 3, 2, (1, 1, 1, 1), 10, 10)
conv("tiny", 3, 8, 12, 1, 3, 1, (1, 1, 1, 1), 1, 1)
gemm("fc_iresnet", 3, 25088, 64)
gemm("fc_small", 5, 300, 70)
gemm("fc_odd", 7, 33, 9)
elementwise()

cases.finish()
