#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<name>/).
Small synthetic files in each format; rerun only to regenerate them."""
import io
import os
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(name, fname, data):
    os.makedirs(os.path.join(D, name), exist_ok=True)
    with open(os.path.join(D, name, fname), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def onnx_seeds():
    rng = np.random.default_rng(0)
    arr = lambda shape, n: numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), n)
    def model(nodes, inits, in_shape=(1, 3, 8, 8), out="y"):
        g = helper.make_graph(nodes, "seed",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
                              initializer=inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    # conv + bn + prelu + gap + flatten + gemm
    bn = [numpy_helper.from_array(np.abs(rng.standard_normal(4)).astype(np.float32) + 0.1, n)
          for n in ("s", "b", "m", "v")]
    nodes = [helper.make_node("Conv", ["x", "w", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn"),
             helper.make_node("PRelu", ["n", "p"], ["r"], name="prelu"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fc", "fb"], ["y"], name="fc", transB=1)]
    put("onnx", "conv_bn_prelu_gemm.onnx",
        model(nodes, [arr((4, 3, 3, 3), "w"), arr((4,), "cb")] + bn +
              [arr((4, 1, 1), "p"), arr((5, 4), "fc"), arr((5,), "fb")]))
    # residual add, mul by constant, sub, div, relu, reshape, matmul, dropout, identity
    shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="c1", pads=[1, 1, 1, 1], group=1, dilations=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Add", ["r", "c"], ["a"]),
             helper.make_node("Mul", ["a", "k"], ["m"]),
             helper.make_node("Sub", ["m", "k2"], ["s"]),
             helper.make_node("Div", ["s", "k3"], ["d"]),
             helper.make_node("Dropout", ["d"], ["dr"]),
             helper.make_node("Identity", ["dr"], ["i"]),
             helper.make_node("Reshape", ["i", "shape"], ["rs"]),
             helper.make_node("MatMul", ["rs", "mm"], ["y"])]
    put("onnx", "residual_matmul.onnx",
        model(nodes, [arr((4, 3, 3, 3), "w"), arr((1, 4, 1, 1), "k"), arr((1,), "k2"), arr((4, 8, 8), "k3"),
                      shape, arr((256, 6), "mm")]))
    # Constant node, depthwise conv, SAME_UPPER auto_pad
    cst = helper.make_node("Constant", [], ["kc"], value=numpy_helper.from_array(np.array([0.5], np.float32)))
    nodes = [cst, helper.make_node("Conv", ["x", "dw"], ["c"], group=3, auto_pad="SAME_UPPER", strides=[2, 2]),
             helper.make_node("Mul", ["c", "kc"], ["y"])]
    put("onnx", "depthwise_const.onnx", model(nodes, [arr((3, 1, 3, 3), "dw")]))
    # the detector's ops: view(batch, -1, 2) through Shape/Gather/Unsqueeze/Concat, Transpose,
    # Concat, Softmax, Slice (opset 9 attributes), Exp, two graph outputs
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("Shape", ["t"], ["sh"]),
             helper.make_node("Gather", ["sh", "zero"], ["g"], axis=0),
             helper.make_node("Unsqueeze", ["g"], ["u"], axes=[0]),
             helper.make_node("Concat", ["u", "m1", "two"], ["ts"], axis=0),
             helper.make_node("Reshape", ["t", "ts"], ["r"]),
             helper.make_node("Concat", ["r", "r", "r"], ["cat"], axis=1),
             helper.make_node("Softmax", ["cat"], ["y"], axis=2),
             helper.make_node("Slice", ["cat"], ["sl"], starts=[1], ends=[1 << 62], axes=[2]),
             helper.make_node("Exp", ["sl"], ["y2"])]
    g = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("y2", TensorProto.FLOAT, None)],
                          initializer=[arr((4, 3, 3, 3), "w"), i64("zero", 0), i64("m1", [-1]), i64("two", [2])])
    put("onnx", "detector_ops.onnx",
        helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)]).SerializeToString())


def pickle_seeds():
    png = bytes.fromhex("89504e470d0a1a0a") + b"IHDR" * 4
    bins = [png, b"\xff\xd8\xff\xe0JFIF" * 3, png, b"\xff\xd8jpeg"]
    issame = [True, False]
    for proto in (2, 3, 4):
        put("pickle", "proto%d.bin" % proto, pickle.dumps((bins, issame), protocol=proto))
    put("pickle", "tuples.bin", pickle.dumps((tuple(bins), tuple(issame)), protocol=4))
    # Python-2 style: str payloads as SHORT_BINSTRING/BINSTRING with memo (BINPUT/BINGET)
    out = io.BytesIO()
    out.write(b"\x80\x02")
    out.write(b"(]q\x00(")
    for i, p in enumerate(bins):
        out.write(b"U" + bytes([len(p)]) + p + b"q" + bytes([i + 1]))
    out.write(b"h\x01")  # BINGET 1 (memo reuse)
    out.write(b"e]q\x10(\x88\x89\x88e\x86q\x11.")
    put("pickle", "py2_memo.bin", out.getvalue())
    # Python-3 bytes at protocol 2: _codecs.encode(str, 'latin1')
    put("pickle", "codecs_latin1.bin", pickle.dumps(([bytes(range(0, 200)), b"ab"], [True]), protocol=2))


def text_seeds():
    put("lfw", "header.txt", "2\t3\nA\t1\t2\nB\t1\t3\nC\t2\t4\nA\t1\tB\t2\nC\t3\tD\t1\nE\t1\tF\t1\n"
        "G\t1\t2\nH\t1\t3\nI\t2\t4\nG\t1\tH\t2\nI\t3\tJ\t1\nK\t1\tL\t1\n")
    put("lfw", "one_set.txt", "2\nA 1 2\nB 3 4\nA 1 B 2\nC 1 D 2\n")
    put("lfw", "no_header.txt", "A 1 2\nB 3 4\nA 1 B 2\nC 1 D 2\n")
    put("cplfw", "pairs.txt", "A_1.jpg 1\nA_2.jpg 1\nB_1.jpg 0\nC_1.jpg 0\nD_1.jpg 1\nD_2.jpg 1\nE_1.jpg 0\nF_1.jpg 0\n")
    put("csv", "pairs.csv", "path_a,path_b,label,fold\na.jpg,b.jpg,1,0\nc d.jpg,\"e,f.jpg\",0,1\nx/a.jpg,b.jpg,1,1\n")
    put("csv", "nofold.csv", "a.jpg,b.jpg,1\nc.jpg,d.jpg,0\n")
    put("cfp", "small.txt", "1 Data/Images/001/frontal/01.jpg\n2 Data/Images/001/frontal/02.jpg\n"
        "\n@@\n1 Data/Images/001/profile/01.jpg\n2 Data/Images/002/profile/01.jpg\n"
        "\n@@\n1,1\n2,1\n\n@@\n1,2\n2,2\n")
    put("ijb", "small.txt", "img/1.jpg 1 10\nimg/2.jpg 1 11\nimg/3.jpg 2 12\nimg/4.jpg 3 13\n"
        "\n@@\n1 2 0\n1 3 0\n2 3 1\n")
    put("landmarks", "lm.txt", "# comment\na/b.jpg 38.3 51.7 73.5 51.5 56.0 71.7 41.5 92.4 70.7 92.2\n"
        "\"c d/e.jpg\"\t1 2 3 4 5 6 7 8 9 10\n\n/abs/x.png 1e1 2 3 4 5 6 7 8 9 10\n")
    put("card", "card.json", '{"name": "m", "family": "iresnet", "input": {"width": 112, "height": 112, '
        '"channels": 3, "order": "RGB", "mean": [127.5, 127.5, 127.5], "scale": [0.0078125, 0.0078125, 0.0078125]},'
        ' "embedding_layer": "fc1", "license": "MIT", "source": "x",'
        ' "calibration": {"serfiq_alpha": 130, "serfiq_r": 0.88, "plq_a": 1.0, "plq_b": 0.0, "plq_mode": "gradient",'
        ' "note": "n"}}')
    put("qcsv", "q.csv", "index,path,serfiq,status\n0,a.jpg,0.5,ok\n1,b.jpg,0.25,ok\n2,c/a.jpg,0.75,ok\n"
        "3,d.jpg,,error\n")
    for i, (arr, name) in enumerate([(np.arange(12, dtype=np.float32).reshape(3, 4), "f4.npy"),
                                      (np.arange(5, dtype=np.float64), "f8.npy"),
                                      (np.float32(3.0), "scalar.npy")]):
        b = io.BytesIO()
        np.save(b, arr)
        put("npy", name, b.getvalue())


if __name__ == "__main__":
    onnx_seeds()
    pickle_seeds()
    text_seeds()
