#!/usr/bin/python3
"""Reference roundings for tests/test_half.c: numpy's float32 -> float16 and
PyTorch's float32 -> bfloat16 (both round to nearest, ties to even), and the
exact float32 value of every float16 and bfloat16 bit pattern.

Usage: half_ref.py IN.npy OUT.npy
IN: float32 values. OUT: float32 array (4, max(N, 65536)):
row 0 = bfloat16 bits of IN, row 1 = float16 bits of IN (as numbers),
row 2 = float32 of float16 pattern k, row 3 = float32 of bfloat16 pattern k.
"""
import sys

import numpy as np
import torch

x = np.load(sys.argv[1]).astype(np.float32).ravel()
n = max(x.size, 65536)
out = np.zeros((4, n), np.float32)
with np.errstate(over="ignore", invalid="ignore"):
    out[0, : x.size] = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    out[1, : x.size] = x.astype(np.float16).view(np.uint16)
k = np.arange(65536, dtype=np.uint32).astype(np.uint16)
out[2, :65536] = k.view(np.float16).astype(np.float32)
out[3, :65536] = torch.from_numpy(k.view(np.int16).copy()).view(torch.bfloat16).to(torch.float32).numpy()
np.save(sys.argv[2], out)
