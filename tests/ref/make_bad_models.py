#!/usr/bin/python3
"""Writes malformed / unsupported ONNX models for xfiq's error tests.

Usage: make_bad_models.py OUTDIR
Each file exercises one error path of the importer; the C test
(tests/test_onnx_errors.c) checks the status and that the message names
the file and the offending node or tensor.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inits, in_shape=(1, 3, 8, 8), out_name="y", out_shape=(1, 4)):
    g = helper.make_graph(
        nodes, "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(out_shape))],
        initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def save(m, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(m.SerializeToString())
    os.replace(tmp, path)


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="conv0", pads=[1, 1, 1, 1])
    # 1. An op xfiq does not implement (after a supported one).
    save(model([conv, helper.make_node("Hardmax", ["c"], ["y"], name="the_hardmax")], [w]),
         os.path.join(outdir, "unknown_op.onnx"))
    # 2. A node reading a value nothing produces.
    save(model([helper.make_node("Relu", ["nowhere"], ["y"], name="lost_relu")], []),
         os.path.join(outdir, "missing_input.onnx"))
    # 3. Conv weights whose input channels do not match the input.
    w5 = numpy_helper.from_array(rng.standard_normal((4, 5, 3, 3)).astype(np.float32), "w5")
    save(model([helper.make_node("Conv", ["x", "w5"], ["y"], name="wrong_cin")], [w5]),
         os.path.join(outdir, "bad_channels.onnx"))
    # 4. An initializer whose data is shorter than its dims say.
    t = helper.make_tensor("short", TensorProto.FLOAT, [10], vals=[0.5] * 10)
    del t.dims[:]
    t.dims.extend([4, 3, 3, 3])
    save(model([helper.make_node("Conv", ["x", "short"], ["y"], name="short_conv")], [t]),
         os.path.join(outdir, "short_tensor.onnx"))
    # 5. A valid model for truncation tests done in C.
    fc = numpy_helper.from_array(rng.standard_normal((4, 4 * 8 * 8)).astype(np.float32), "fc")
    nodes = [conv, helper.make_node("Flatten", ["c"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc", transB=1)]
    save(model(nodes, [w, fc]), os.path.join(outdir, "good_small.onnx"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
