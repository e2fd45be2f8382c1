#!/usr/bin/python3
"""ops_torch_ref.py - independent PyTorch reference for the xfiq CPU ops.

Writes into OUTDIR a list of cases (cases.txt, one line per case) and, per
case, raw little-endian float32 files NAME_<tensor>.bin: the float32 inputs
and the expected output computed by PyTorch in float64 from those same
float32 inputs. tests/test_ops_torch.c runs the xfiq ops on the inputs and
compares. Exit code 77 when torch is not importable (the test then skips).

cases.txt line formats (all integers):
  conv NAME n cin cout group kh kw sh sw dh dw pad_t pad_l pad_b pad_r ih iw oh ow act slope_per_channel has_bias
  gemm NAME n k m act slope_per_channel has_bias
  affine NAME n c spatial          (scale, shift from a BatchNorm: y = batch_norm(x))
  prelu NAME n c spatial per_channel
  relu NAME count
  binary NAME op count
  binconst NAME op const_first n per_sample
  gap NAME n c spatial
  concat NAME outer na nb          (torch.cat of two 4-D tensors along an axis)
  transpose NAME n ndim dims[1..ndim-1] perm[0..ndim-1]
  slice NAME n ndim xdims[1..] start[1..] step[1..] ydims[1..]
  softmax NAME outer len inner     (torch.softmax over dim 1 of (outer, len, inner))
  exp NAME count
act: 0 none, 1 relu, 2 prelu. op: 0 add, 1 sub, 2 mul, 3 div.
"""
import sys

from case_files import Cases, uniform

import torch
import torch.nn.functional as F

cases = Cases(sys.argv[1], 1234)
lines, save = cases.lines, cases.save


def act_f64(y, act, slope):
    if act == 1:
        return F.relu(y)
    if act == 2:
        return F.prelu(y, slope)
    return y


def conv(name, n, cin, cout, group, k, s, pads, ih, iw, dil=(1, 1), act=0, spc=1, bias=True, kw=None, sw=None):
    kh = k
    kw = k if kw is None else kw
    sh = s
    sw = s if sw is None else sw
    pt, pl, pb, pr = pads
    dh, dw = dil
    K = cin // group * kh * kw
    x = uniform(n, cin, ih, iw)
    w = uniform(cout, cin // group, kh, kw, a=K ** -0.5)
    b = uniform(cout, a=0.5)
    slope = uniform(cout if spc else 1, a=0.5)
    xp = F.pad(x.double(), (pl, pr, pt, pb))
    y = F.conv2d(xp, w.double(), b.double() if bias else None, stride=(sh, sw), dilation=(dh, dw), groups=group)
    y = act_f64(y, act, slope.double())
    oh, ow = y.shape[2], y.shape[3]
    for key, t in (("x", x), ("w", w), ("b", b), ("slope", slope), ("y", y)):
        save(name, key, t)
    lines.append("conv %s %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d" % (
        name, n, cin, cout, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ih, iw, oh, ow, act, spc, int(bias)))


def gemm(name, n, k, m, act=0, spc=1, bias=True):
    x = uniform(n, k)
    w = uniform(m, k, a=k ** -0.5)
    b = uniform(m, a=0.5)
    slope = uniform(m if spc else 1, a=0.5)
    y = F.linear(x.double(), w.double(), b.double() if bias else None)
    y = act_f64(y, act, slope.double())
    for key, t in (("x", x), ("w", w), ("b", b), ("slope", slope), ("y", y)):
        save(name, key, t)
    lines.append("gemm %s %d %d %d %d %d %d" % (name, n, k, m, act, spc, int(bias)))


def elementwise():
    n, c, h, w = 3, 6, 37, 41
    x = uniform(n, c, h, w, a=2.0)
    # BatchNormalization (inference) folded to a per-channel affine, checked
    # against torch's own batch_norm.
    mean, var = uniform(c), torch.rand(c) + 0.5
    gamma, beta, eps = uniform(c, a=1.5), uniform(c), 1e-5
    scale = (gamma.double() / torch.sqrt(var.double() + eps)).float()
    shift = (beta.double() - mean.double() * scale.double()).float()
    y = F.batch_norm(x.double(), mean.double(), var.double(), gamma.double(), beta.double(), False, 0.0, eps)
    for key, t in (("x", x), ("scale", scale), ("shift", shift), ("y", y)):
        save("bn", key, t)
    lines.append("affine bn %d %d %d" % (n, c, h * w))
    for pc in (0, 1):
        slope = uniform(c if pc else 1, a=0.5)
        name = "prelu%d" % pc
        for key, t in (("x", x), ("slope", slope), ("y", F.prelu(x.double(), slope.double()))):
            save(name, key, t)
        lines.append("prelu %s %d %d %d %d" % (name, n, c, h * w, pc))
    save("relu", "x", x)
    save("relu", "y", F.relu(x.double()))
    lines.append("relu relu %d" % x.numel())
    x2 = uniform(n, c, h, w, a=2.0)
    x2 = torch.where(x2 >= 0, x2 + 0.5, x2 - 0.5)
    ops = [torch.add, torch.sub, torch.mul, torch.div]
    for op, f in enumerate(ops):
        name = "bin%d" % op
        for key, t in (("a", x), ("b", x2), ("y", f(x.double(), x2.double()))):
            save(name, key, t)
        lines.append("binary %s %d %d" % (name, op, x.numel()))
        for cf in (0, 1):
            name = "binc%d_%d" % (op, cf)
            kconst = x2[0]
            y = f(kconst.double(), x.double()) if cf else f(x.double(), kconst.double())
            for key, t in (("x", x), ("k", kconst), ("y", y)):
                save(name, key, t)
            lines.append("binconst %s %d %d %d %d" % (name, op, cf, n, c * h * w))
    for key, t in (("x", x), ("y", F.adaptive_avg_pool2d(x.double(), 1))):
        save("gap", key, t)
    lines.append("gap gap %d %d %d" % (n, c, h * w))


# Convolutions: the shapes of the two face-network families, small enough to
# keep the test quick, plus the awkward corners.
conv("stem_s2", 2, 3, 64, 1, 3, 2, (1, 1, 1, 1), 32, 32, act=2)
conv("c3x3_s1", 3, 32, 40, 1, 3, 1, (1, 1, 1, 1), 14, 14, act=2)
conv("c3x3_s2", 2, 48, 64, 1, 3, 2, (1, 1, 1, 1), 14, 14, act=0, bias=False)
conv("c3x3_7x7_deep", 2, 256, 36, 1, 3, 1, (1, 1, 1, 1), 7, 7, act=2, spc=0)
conv("c1x1_s1", 3, 64, 128, 1, 1, 1, (0, 0, 0, 0), 28, 28, act=2)
conv("c1x1_s2", 2, 64, 48, 1, 1, 2, (0, 0, 0, 0), 14, 14)
conv("c1x1_1x1", 5, 512, 72, 1, 1, 1, (0, 0, 0, 0), 1, 1, act=1)
conv("dw3x3_s1", 3, 64, 64, 64, 3, 1, (1, 1, 1, 1), 28, 28, act=2)
conv("dw3x3_s2", 2, 32, 32, 32, 3, 2, (1, 1, 1, 1), 28, 28, act=2)
conv("dw7x7_gdc", 4, 128, 128, 128, 7, 1, (0, 0, 0, 0), 7, 7)
conv("asym_pad", 2, 10, 14, 1, 3, 1, (0, 1, 2, 1), 12, 9, act=2, spc=0)
conv("dilated", 2, 12, 18, 1, 3, 1, (2, 2, 2, 2), 13, 13, dil=(2, 2), act=1)
conv("rect", 2, 6, 10, 1, 3, 1, (1, 2, 0, 1), 11, 16, kw=5, sw=2)
conv("group2", 2, 16, 24, 2, 3, 1, (1, 1, 1, 1), 9, 9, act=2)
conv("group4", 3, 32, 16, 4, 3, 2, (1, 1, 1, 1), 10, 10, act=1)
conv("tiny", 3, 8, 12, 1, 3, 1, (1, 1, 1, 1), 1, 1, act=1)
gemm("fc_iresnet", 3, 25088, 64, act=0)
gemm("fc_small", 5, 300, 70, act=2)
gemm("fc_relu", 7, 33, 9, act=1, bias=False)
elementwise()


def layout():
    for name, shape_a, shape_b, axis in (("cat_c", (2, 3, 5, 7), (2, 4, 5, 7), 1),
                                         ("cat_w", (3, 4, 6, 2), (3, 4, 6, 5), 3),
                                         ("cat_rows", (2, 3600, 2, 1), (2, 600, 2, 1), 1)):
        a, b = uniform(*shape_a), uniform(*shape_b)
        y = torch.cat([a.double(), b.double()], dim=axis)
        outer = 1
        for d in shape_a[:axis]:
            outer *= d
        for key, t in (("a", a), ("b", b), ("y", y)):
            save(name, key, t)
        lines.append("concat %s %d %d %d" % (name, outer, a.numel() // outer, b.numel() // outer))
    for name, shape, perm in (("nchw_nhwc", (2, 12, 30, 40), (0, 2, 3, 1)), ("t3", (3, 5, 7), (0, 2, 1)),
                              ("t5", (2, 3, 4, 5, 6), (0, 3, 1, 4, 2))):
        x = uniform(*shape)
        y = x.double().permute(*perm).contiguous()
        save(name, "x", x)
        save(name, "y", y)
        lines.append("transpose %s %d %d %s %s" % (name, shape[0], len(shape), " ".join(map(str, shape[1:])),
                                                    " ".join(map(str, perm))))
    for name, shape, sl in (("box_xy", (2, 4420, 4), [(0, 4420, 1), (0, 2, 1)]),
                            ("box_wh", (2, 4420, 4), [(0, 4420, 1), (2, 4, 1)]),
                            ("strided", (2, 6, 11, 13), [(1, 6, 2), (3, 10, 3), (0, 13, 4)])):
        x = uniform(*shape)
        idx = [slice(None)] + [slice(a, b, c) for a, b, c in sl]
        y = x.double()[tuple(idx)].contiguous()
        save(name, "x", x)
        save(name, "y", y)
        lines.append("slice %s %d %d %s %s %s %s" % (
            name, shape[0], len(shape), " ".join(map(str, shape[1:])), " ".join(str(a) for a, b, c in sl),
            " ".join(str(c) for a, b, c in sl), " ".join(map(str, y.shape[1:]))))
    for name, outer, ln, inner, scale in (("scores", 8840, 2, 1, 4.0), ("wide", 6, 500, 1, 30.0),
                                          ("sm_strided", 3, 7, 11, 8.0)):
        x = uniform(outer, ln, inner, a=scale)
        y = torch.softmax(x.double(), dim=1)
        save(name, "x", x)
        save(name, "y", y)
        lines.append("softmax %s %d %d %d" % (name, outer, ln, inner))
    x = uniform(26520, a=6.0)
    save("exp", "x", x)
    save("exp", "y", torch.exp(x.double()))
    lines.append("exp exp %d" % x.numel())


layout()

cases.finish()
