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
    detector_ops(outdir, conv, w)
    return 0


def detector_ops(outdir, conv, w):
    """Hostile attributes of the detector's ops (Transpose, Slice, Concat,
    Softmax, Gather/Unsqueeze shape arithmetic): each must be refused with
    the node named, never crash or read out of bounds."""
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    cases = {
        # perm moving the batch, perm not a permutation, perm of the wrong length
        "det_transpose_batch": ([helper.make_node("Transpose", ["c"], ["y"], name="tr_batch", perm=[1, 0, 2, 3])], []),
        "det_transpose_dup": ([helper.make_node("Transpose", ["c"], ["y"], name="tr_dup", perm=[0, 2, 2, 1])], []),
        "det_transpose_rank": ([helper.make_node("Transpose", ["c"], ["y"], name="tr_rank", perm=[0, 1, 2])], []),
        "det_transpose_huge": ([helper.make_node("Transpose", ["c"], ["y"], name="tr_huge",
                                                 perm=[0, 3, 2, 1 << 40])], []),
        # Slice: zero and negative steps, INT64 extremes, an axis out of range, the batch
        "det_slice_step0": ([helper.make_node("Slice", ["c", "s", "e", "a", "st"], ["y"], name="sl_step0")],
                            [i64("s", [0]), i64("e", [2]), i64("a", [1]), i64("st", [0])]),
        "det_slice_extreme": ([helper.make_node("Slice", ["c", "s", "e", "a"], ["y"], name="sl_ext")],
                              [i64("s", [-(1 << 63)]), i64("e", [(1 << 63) - 1]), i64("a", [7])]),
        "det_slice_batch": ([helper.make_node("Slice", ["c", "s", "e", "a"], ["y"], name="sl_batch")],
                            [i64("s", [1]), i64("e", [2]), i64("a", [0])]),
        # Concat along the batch, of different shapes
        "det_concat_batch": ([helper.make_node("Concat", ["c", "c"], ["y"], name="cat_batch", axis=0)], []),
        "det_concat_shape": ([helper.make_node("Transpose", ["c"], ["t"], name="tr", perm=[0, 2, 3, 1]),
                              helper.make_node("Concat", ["c", "t"], ["y"], name="cat_shape", axis=1)], []),
        "det_softmax_axis": ([helper.make_node("Softmax", ["c"], ["y"], name="sm_axis", axis=9)], []),
        # Gather of a non-batch dim of a Shape, out-of-range index of a constant
        "det_gather_dim": ([helper.make_node("Shape", ["c"], ["sh"], name="shape"),
                            helper.make_node("Gather", ["sh", "one"], ["g"], name="ga_dim", axis=0),
                            helper.make_node("Unsqueeze", ["g"], ["u"], name="un", axes=[0]),
                            helper.make_node("Concat", ["u", "m1"], ["t"], name="cat", axis=0),
                            helper.make_node("Reshape", ["c", "t"], ["y"], name="rs")],
                           [i64("one", 1), i64("m1", [-1])]),
        "det_gather_range": ([helper.make_node("Gather", ["k", "big"], ["g"], name="ga_range", axis=0),
                              helper.make_node("Reshape", ["c", "g"], ["y"], name="rs")],
                             [i64("k", [1, -1]), i64("big", [5])]),
        # the batch size used away from a Reshape target's first entry
        "det_batch_late": ([helper.make_node("Shape", ["c"], ["sh"], name="shape"),
                            helper.make_node("Gather", ["sh", "zero"], ["g"], name="ga", axis=0),
                            helper.make_node("Unsqueeze", ["g"], ["u"], name="un", axes=[0]),
                            helper.make_node("Concat", ["m1", "u"], ["t"], name="cat", axis=0),
                            helper.make_node("Reshape", ["c", "t"], ["y"], name="rs_late")],
                           [i64("zero", 0), i64("m1", [-1])]),
    }
    for name, (nodes, inits) in cases.items():
        save(model([conv] + nodes, [w] + inits), os.path.join(outdir, name + ".onnx"))
    # Two outputs: fine for the detector (joined), refused as a face recognition model.
    g = helper.make_graph([conv, helper.make_node("Relu", ["c"], ["r"], name="relu")], "two",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("c", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("r", TensorProto.FLOAT, None)], initializer=[w])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(outdir, "two_outputs.onnx"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
