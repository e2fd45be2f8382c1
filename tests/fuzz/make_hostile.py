#!/usr/bin/python3
"""Writes the hostile regression corpus (tests/fuzz/hostile/<target>/): the
reproducers of issue 9 and what fuzzing found. Each file is replayed by
ctest (fuzz_replay_<target>: no crash, leak or UB) and checked for its
exact error message by tests/cli/hostile.sh. Rerun only to regenerate."""
import os
import pickle
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")


def put(t, name, data):
    os.makedirs(os.path.join(D, t), exist_ok=True)
    with open(os.path.join(D, t, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def model(nodes, inits, in_shape=(1, 3, 8, 8), out="y", out_name_set=True):
    outs = [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)]
    g = helper.make_graph(nodes, "hostile",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))], outs,
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    if not out_name_set:
        m.graph.output[0].ClearField("name")
    return m.SerializeToString()


def w(shape, name):
    return numpy_helper.from_array(np.full(shape, 0.1, np.float32), name)


def onnx_cases():
    conv = lambda **kw: helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **kw)
    put("onnx", "unnamed_output.onnx", model([conv()], [w((4, 3, 3, 3), "w")], out_name_set=False))
    put("onnx", "dilation_int_max.onnx", model([conv(dilations=[2147483647, 1])], [w((4, 3, 3, 3), "w")]))
    put("onnx", "stride_int64_truncated.onnx", model([conv(strides=[4294967297, 1])], [w((4, 3, 3, 3), "w")]))
    put("onnx", "group_zero.onnx", model([conv(group=0)], [w((4, 3, 3, 3), "w")]))
    put("onnx", "pads_negative.onnx", model([conv(pads=[-5, 0, 0, 0])], [w((4, 3, 3, 3), "w")]))
    # a raw tensor of 433 bytes for 108 floats (the "holds 108 values but needs 108" message)
    t = w((4, 3, 3, 3), "w")
    t.raw_data = t.raw_data + b"\x00"
    put("onnx", "raw_data_odd_length.onnx", model([conv()], [t]))
    # huge dimension without data (memory bomb if allocated from dims)
    t = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], vals=[0.1] * 108)
    del t.dims[:]
    t.dims.extend([1 << 20, 1 << 20, 1 << 20, 1])
    put("onnx", "huge_dims_no_data.onnx", model([conv()], [t]))
    # zero-size weight dimension
    t = helper.make_tensor("w", TensorProto.FLOAT, [0, 3, 3, 3], vals=[])
    put("onnx", "zero_dim_weight.onnx", model([conv()], [t]))
    # input dims near INT64_MAX: shape inference overflow
    put("onnx", "input_dim_huge.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [],
                                             in_shape=(1, 3, 1 << 40, 1 << 40)))
    # reshape to a shape whose product overflows int64
    shp = numpy_helper.from_array(np.array([1, 1 << 40, 1 << 40, 1 << 40], np.int64), "shape")
    put("onnx", "reshape_overflow.onnx", model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [shp]))
    # kernel near INT_MAX / 2 with dilation: (kh-1)*dh overflows int
    put("onnx", "flatten_negative_axis.onnx", model([helper.make_node("Flatten", ["x"], ["y"], axis=-1)], []))
    # deeply nested graph attributes (stack overflow in a recursive decoder)
    inner = helper.make_graph([], "g", [], [])
    for _ in range(3000):
        n = helper.make_node("If", [], [], then_branch=inner)
        inner = helper.make_graph([n], "g", [], [])
    m = helper.make_model(helper.make_graph([helper.make_node("If", ["x"], ["y"], then_branch=inner)], "deep",
                                            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                                            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]))
    put("onnx", "deep_nesting.onnx", m.SerializeToString())
    # many empty nodes: each 2-byte submessage becomes a ~200-byte C struct
    g = b"".join(b"\x0a\x00" for _ in range(300000))  # GraphProto.node = empty NodeProto
    put("onnx", "empty_node_bomb.onnx", b"\x3a" + _varint(len(g)) + g)  # ModelProto.graph
    # one 64 KB weight read by 3,000 Mul nodes: each node gets its own copy of
    # the parameters (~190 MB from a 150 KB file, every tensor under its limit)
    k = numpy_helper.from_array(np.full((1, 1, 128, 128), 0.5, np.float32), "k")
    muls = [helper.make_node("Mul", ["x" if i == 0 else "a%d" % (i - 1), "k"], ["a%d" % i if i < 2999 else "y"])
            for i in range(3000)]
    put("onnx", "shared_weight_amplification.onnx", model(muls, [k]))
    put("onnx", "empty.onnx", b"")
    put("onnx", "not_protobuf.onnx", b"\xff" * 64)


def _varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pickle_cases():
    big = b"x" * 200000
    head = (b"\x80\x02]q\x00(c_codecs\nencode\nq\x01X" + struct.pack("<I", len(big)) + big + b"q\x02"
            + b"X\x06\x00\x00\x00latin1q\x03\x86q\x04R")
    # one big memoised str decoded again and again by _codecs.encode (400 MB from 200 KB)
    put("pickle", "latin1_memo_amplification.bin",
        head + b"h\x01h\x04R" * 1999 + b"e]q\x05(" + b"\x88" * 1000 + b"e\x86.")
    # one converted payload memoised and listed 20,000 times (each listing copied: 4 GB)
    put("pickle", "memo_repeat_amplification.bin",
        head + b"q\x05" + b"h\x05" * 19999 + b"e]q\x06(" + b"\x88" * 10000 + b"e\x86.")
    # a memo index of 2^28 - 1 (2 GiB memo table)
    put("pickle", "memo_index_huge.bin", b"\x80\x02N" + b"r" + struct.pack("<I", (1 << 28) - 1) + b".")
    put("pickle", "binbytes8_huge.bin", b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62) + b".")


def text_cases():
    put("lfw", "utf16.txt", "2\t300\nA\t1\t2\n".encode("utf-16"))
    put("lfw", "header_huge.txt", "1000000 100000000\nA 1 2\n")
    put("lfw", "cr_only.txt", "1\t1\rA\t1\t2\rA\t1\tB\t2\r")
    put("csv", "five_fields.csv", "a,b,1,0,extra\n")
    put("csv", "unterminated_quote.csv", "\"a,b,1\n")
    put("card", "scale_1e400.json", '{"input": {"scale": [1e400, 1, 1]}}')
    put("card", "width_fraction.json", '{"input": {"width": 112.5}}')
    put("card", "nested.json", "[" * 5000 + "]" * 5000)
    put("npy", "shape_overflow.npy", b"\x93NUMPY\x01\x00" + _npyhdr("{'descr': '<f4', 'fortran_order': False, "
                                                                      "'shape': (4294967296, 4294967296, 16), }"))
    put("npy", "negative_shape.npy", b"\x93NUMPY\x01\x00" + _npyhdr("{'descr': '<f4', 'fortran_order': False, "
                                                                      "'shape': (-1, 4), }"))
    put("landmarks", "nan.txt", "a.jpg nan 1 2 3 4 5 6 7 8 9\n")
    put("landmarks", "long_line.txt", "a" * 100000 + " 1 2 3 4 5 6 7 8 9 10\n")
    put("ijb", "negative_ids.txt", "a.jpg -1 -2\n\n@@\n-1 -1 1\n")


def _npyhdr(h):
    h = h + " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return struct.pack("<H", len(h)) + h.encode()


def image_cases():
    # a 20-byte header announcing 400 Mpixels (1.2 GB as RGB): over the default limit
    put("image", "header_400mpix.pgm", b"P5\n20000 20000\n255\n")


if __name__ == "__main__":
    image_cases()
    onnx_cases()
    pickle_cases()
    text_cases()
