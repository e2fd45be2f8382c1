#!/usr/bin/python3
"""Reference embeddings of aligned uint8 faces, independent of xfiq's C code:
preprocessing from the model card, then the ONNX graph run with PyTorch ops
(onnx_torch_ref.py) in float64, one image at a time.

Usage: ref_embed.py MODEL.onnx CARD.json FACES.npy OUT.npy
FACES.npy: (N,H,W,3) RGB pixel values 0..255 (any float or uint8 dtype).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_torch_ref  # noqa: E402


def main(model, card_path, faces, out):
    card = json.load(open(card_path))
    x = np.load(faces).astype(np.float64)
    if card["input"].get("order", "RGB") == "BGR":
        x = x[..., ::-1]
    x = (x - np.array(card["input"]["mean"], np.float64)) * np.array(card["input"]["scale"], np.float64)
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    y = np.concatenate([onnx_torch_ref.run(model, x[i:i + 1], double=True) for i in range(len(x))])
    np.save(out + ".tmp.npy", y.astype(np.float32))
    os.replace(out + ".tmp.npy", out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
