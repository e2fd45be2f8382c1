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
    """Float64 forward; per_sample for fixed-batch graphs (Reshape [1,-1])."""
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

    mf = export_iresnet.randomize(export_mobilefacenet.build_mobilefacenet(), seed=2)
    p = os.path.join(outdir, "mfn_tiny.onnx")
    export_iresnet.export_onnx(mf, p, mf.input_size, dynamic_batch=False, opset=13, keep_bn=True)
    card, _ = export_mobilefacenet.write_card(p, mf.input_size,
                                              "tiny MobileFaceNet, random weights (seed 2), "
                                              "tests/ref/make_golden.py")
    ok &= make_one(outdir, "mfn_tiny", mf, card, mf.input_size, True, rng, manifest)

    export_iresnet.write_json_atomic(os.path.join(outdir, "golden.json"), manifest)
    if not ok:
        print("make_golden: the ONNX reference disagrees with the PyTorch module", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
