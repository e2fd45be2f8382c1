#!/usr/bin/python3
"""Exports an iResNet-100 (MagFace layout, random weights, seed 100) for the
batch-32 engine test, with 2 random input images and PyTorch's outputs.

Usage: make_iresnet100.py OUTDIR    (about a minute; skips work already done)
Files: iresnet100.onnx (+ .card.json), input.npy (2,3,112,112) float32,
output.npy (2,512) float32 (float64 forward, cast).
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import export_iresnet  # noqa: E402


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    done = os.path.join(outdir, "output.npy")
    if os.path.exists(done):
        return 0
    torch.set_num_threads(os.cpu_count() or 1)
    model = export_iresnet.randomize(export_iresnet.build_iresnet("100", "magface"), seed=100)
    path = os.path.join(outdir, "iresnet100.onnx")
    export_iresnet.export_onnx(model, path, 112, dynamic_batch=False, opset=13)
    export_iresnet.write_card(path, "magface", "iresnet100-random", 112, "tests/ref/make_iresnet100.py")
    x = np.random.default_rng(100).standard_normal((2, 3, 112, 112)).astype(np.float32)
    with torch.no_grad():
        y = model.double().eval()(torch.from_numpy(x.astype(np.float64))).numpy()
    np.save(os.path.join(outdir, "input.npy"), x)
    np.save(done + ".tmp.npy", y.astype(np.float32))
    os.replace(done + ".tmp.npy", done)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
