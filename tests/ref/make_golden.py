#!/usr/bin/python3
"""Generates the golden fixtures for xfiq's C tests (see tests/ref/README.md).

Exports a tiny iResNet (MagFace layout, BGR x/255) and a tiny MobileFaceNet
(RGB (x-127)/128) with fixed seeds, both with a fixed batch of 1 and every
BatchNormalization left unfused, and writes for each: random NCHW inputs
(batch 3), the PyTorch module's own outputs (computed in float64, stored as
float32), a uint8 RGB image batch and the module's embeddings of those images
preprocessed as the model card says. It also checks that the independent
ONNX executor (onnx_torch_ref.py) agrees with the PyTorch modules.

Usage: make_golden.py OUTDIR        (takes a few seconds)
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
sys.path.insert(0, HERE)
import export_iresnet  # noqa: E402
import export_mobilefacenet  # noqa: E402
import onnx_torch_ref  # noqa: E402

BATCH = 3


def rel_err(a, b):
    """max |a - b| / max |b|: the measure the C tests use too."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def save_npy(path, arr):
    tmp = path + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, path)


def preprocess(images, card):
    """uint8 RGB (N,H,W,3) -> float64 NCHW as the card prescribes."""
    x = images.astype(np.float64)
    order = card["input"]["order"]
    if order == "BGR":
        x = x[..., ::-1]
    elif order != "RGB":
        raise ValueError("unknown channel order %s" % order)
    mean = np.array(card["input"]["mean"], np.float64)
    scale = np.array(card["input"]["scale"], np.float64)
    x = (x - mean) * scale
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def module_forward(model, x, per_sample):
    """Float64 forward; per_sample for fixed-batch graphs (Reshape [1,-1]),
    one image at a time, exactly as the exported module."""
    m = model.double().eval()
    with torch.no_grad():
        t = torch.from_numpy(x)
        if per_sample:
            y = torch.cat([m(t[i:i + 1]) for i in range(t.shape[0])], 0)
        else:
            y = m(t)
    model.float()
    return y.numpy()


def make_one(outdir, stem, model, card_path, input_size, per_sample, rng, manifest):
    with open(card_path) as f:
        card = json.load(f)
    onnx_path = os.path.join(outdir, stem + ".onnx")
    x = rng.standard_normal((BATCH, 3, input_size, input_size)).astype(np.float32)
    y = module_forward(model, x.astype(np.float64), per_sample)
    images = rng.integers(0, 256, size=(BATCH, input_size, input_size, 3), dtype=np.uint8)
    yi = module_forward(model, preprocess(images, card), per_sample)

    files = {"model": stem + ".onnx", "card": stem + ".card.json",
             "input": stem + "_input.npy", "output": stem + "_output.npy",
             "images": stem + "_images.npy", "images_output": stem + "_images_output.npy"}
    save_npy(os.path.join(outdir, files["input"]), x)
    save_npy(os.path.join(outdir, files["output"]), y.astype(np.float32))
    save_npy(os.path.join(outdir, files["images"]), images)
    save_npy(os.path.join(outdir, files["images_output"]), yi.astype(np.float32))

    # Cross-check: the ONNX file run by the independent executor.
    r64 = onnx_torch_ref.run(onnx_path, x.astype(np.float64), double=True)
    r32 = onnx_torch_ref.run(onnx_path, x, double=False)
    ri = onnx_torch_ref.run(onnx_path, preprocess(images, card), double=True)
    errs = {"ref64_vs_torch": rel_err(r64, y), "ref32_vs_torch": rel_err(r32, y),
            "ref64_images_vs_torch": rel_err(ri, yi)}
    print("%s: output %s, embedding_layer '%s', max rel err: onnx ref f64 %.2e, f32 %.2e, images f64 %.2e"
          % (stem, tuple(y.shape), card["embedding_layer"], errs["ref64_vs_torch"],
             errs["ref32_vs_torch"], errs["ref64_images_vs_torch"]))
    ok = (errs["ref64_vs_torch"] < 1e-9 and errs["ref64_images_vs_torch"] < 1e-9
          and errs["ref32_vs_torch"] < 1e-4)
    manifest[stem] = dict(files, input_shape=list(x.shape), output_shape=list(y.shape),
                          embedding_layer=card["embedding_layer"], rel_err=errs)
    return ok


def np_conv2d(x, w, b, strides, pads, dilations, group):
    """Direct-loop convolution in float64 (pads = [top, left, bottom, right])."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (xp.shape[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for o in range(m):
        gi = o // mg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, gi * cg:(gi + 1) * cg,
                           i * strides[0]:i * strides[0] + dilations[0] * (kh - 1) + 1:dilations[0],
                           j * strides[1]:j * strides[1] + dilations[1] * (kw - 1) + 1:dilations[1]]
                y[:, o, i, j] = np.tensordot(patch, w[o], axes=([1, 2, 3], [0, 1, 2])) + b[o]
    return y


def make_ops_mix(outdir, rng, manifest):
    """One small graph with the ops the two networks lack (asymmetric pads,
    strides/dilations, grouped conv, Relu, Sub/Mul/Div by broadcast constants,
    GlobalAveragePool, Flatten, Gemm alpha/beta/transB, MatMul, Dropout,
    Identity); expected outputs come from plain numpy, not from torch."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    c, hw = 4, 10
    W1 = f32(rng.standard_normal((6, 2, 3, 3)) * 0.4)
    B1 = f32(rng.standard_normal(6) * 0.1)
    Csub = f32(rng.standard_normal((6, 1, 1)) * 0.2)
    Cmul = f32(rng.uniform(0.5, 1.5, (1, 6, 1, 1)))
    Cdiv = f32(1.7)
    Wg = f32(rng.standard_normal((7, 240)) * 0.1)
    Bg = f32(rng.standard_normal(7) * 0.1)
    Wm = f32(rng.standard_normal((7, 5)) * 0.3)
    Wg2 = f32(rng.standard_normal((6, 5)) * 0.3)
    Bg2 = f32(rng.standard_normal((1, 5)) * 0.1)
    inits = {"W1": W1, "B1": B1, "Csub": Csub, "Cmul": Cmul, "Cdiv": Cdiv, "Wg": Wg, "Bg": Bg,
             "Wm": Wm, "Wg2": Wg2, "Bg2": Bg2}
    conv = dict(strides=[2, 1], pads=[0, 1, 2, 1], dilations=[1, 2], group=2)
    nodes = [
        helper.make_node("Conv", ["input", "W1", "B1"], ["c1"], kernel_shape=[3, 3], **conv),
        helper.make_node("Relu", ["c1"], ["r"]),
        helper.make_node("Sub", ["r", "Csub"], ["s"]),
        helper.make_node("Mul", ["s", "Cmul"], ["m"]),
        helper.make_node("Div", ["m", "Cdiv"], ["d"]),
        helper.make_node("Add", ["d", "c1"], ["a"]),
        helper.make_node("Flatten", ["a"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "Wg", "Bg"], ["gm"], alpha=0.5, beta=2.0, transB=1),
        helper.make_node("MatMul", ["gm", "Wm"], ["mm"]),
        helper.make_node("Dropout", ["mm"], ["dr"]),
        helper.make_node("Identity", ["dr"], ["id"]),
        helper.make_node("GlobalAveragePool", ["a"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["gf"]),
        helper.make_node("Gemm", ["gf", "Wg2", "Bg2"], ["g2"]),
        helper.make_node("Add", ["id", "g2"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "xfiq_ops_mix",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, c, hw, hw])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 5])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="xfiq make_golden")
    model.ir_version = 7
    onnx.checker.check_model(model)
    path = os.path.join(outdir, "ops_mix.onnx")
    onnx.save(model, path + ".tmp")
    os.replace(path + ".tmp", path)

    x = rng.standard_normal((BATCH, c, hw, hw)).astype(np.float32)
    d = {k: v.astype(np.float64) for k, v in inits.items()}
    c1 = np_conv2d(x.astype(np.float64), d["W1"], d["B1"], conv["strides"],
                   [conv["pads"][0], conv["pads"][1], conv["pads"][2], conv["pads"][3]],
                   conv["dilations"], conv["group"])
    a = (np.maximum(c1, 0) - d["Csub"]) * d["Cmul"] / d["Cdiv"] + c1
    gm = 0.5 * a.reshape(BATCH, -1) @ d["Wg"].T + 2.0 * d["Bg"]
    g2 = a.mean(axis=(2, 3)) @ d["Wg2"] + d["Bg2"]
    y = gm @ d["Wm"] + g2
    save_npy(os.path.join(outdir, "ops_mix_input.npy"), x)
    save_npy(os.path.join(outdir, "ops_mix_output.npy"), y.astype(np.float32))
    r64 = onnx_torch_ref.run(path, x.astype(np.float64), double=True)
    r32 = onnx_torch_ref.run(path, x)
    errs = {"ref64_vs_numpy": rel_err(r64, y), "ref32_vs_numpy": rel_err(r32, y)}
    print("ops_mix: output %s, max rel err: onnx ref f64 %.2e, f32 %.2e (vs numpy)"
          % (tuple(y.shape), errs["ref64_vs_numpy"], errs["ref32_vs_numpy"]))
    manifest["ops_mix"] = {"model": "ops_mix.onnx", "input": "ops_mix_input.npy",
                           "output": "ops_mix_output.npy", "input_shape": list(x.shape),
                           "output_shape": list(y.shape), "rel_err": errs}
    return errs["ref64_vs_numpy"] < 1e-9 and errs["ref32_vs_numpy"] < 1e-4


def main(argv):
    if len(argv) != 2:
        print("usage: make_golden.py OUTDIR", file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(20261127)
    manifest = {}
    ok = True

    ir = export_iresnet.randomize(export_iresnet.build_iresnet("tiny", "magface"), seed=1)
    p = os.path.join(outdir, "iresnet_tiny.onnx")
    export_iresnet.export_onnx(ir, p, ir.input_size, dynamic_batch=False, opset=13, keep_bn=True)
    card, _ = export_iresnet.write_card(p, "magface", "iresnet-tiny-magface", ir.input_size,
                                        "tiny iResNet, MagFace layout, random weights (seed 1), "
                                        "tests/ref/make_golden.py")
    ok &= make_one(outdir, "iresnet_tiny", ir, card, ir.input_size, False, rng, manifest)

    mf = export_mobilefacenet.randomize_mobilefacenet(export_mobilefacenet.build_mobilefacenet(), seed=2)
    p = os.path.join(outdir, "mfn_tiny.onnx")
    export_iresnet.export_onnx(mf, p, mf.input_size, dynamic_batch=False, opset=13, keep_bn=True)
    card, _ = export_mobilefacenet.write_card(p, mf.input_size,
                                              "tiny MobileFaceNet, random weights (seed 2), "
                                              "tests/ref/make_golden.py")
    ok &= make_one(outdir, "mfn_tiny", mf, card, mf.input_size, True, rng, manifest)

    ok &= make_ops_mix(outdir, rng, manifest)

    export_iresnet.write_json_atomic(os.path.join(outdir, "golden.json"), manifest)
    if not ok:
        print("make_golden: the ONNX reference disagrees with the PyTorch module", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
