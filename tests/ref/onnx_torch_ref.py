#!/usr/bin/python3
"""Independent reference executor for the ONNX face networks xfiq runs.

The graph is read with python3-onnx and each node is executed with PyTorch
functional ops, so xfiq's outputs can be checked against code that shares
nothing with xfiq's C loader, folding or kernels. Float64 mode gives a tight
reference for fp32 comparisons.

CLI:    onnx_torch_ref.py MODEL.onnx --input in.npy --output out.npy [--double]
Import: run(model_path, x, double=False) -> numpy array (the graph output;
        several outputs are flattened per image and joined in graph order,
        the layout xfiq's importer gives a multi-output graph)
        OnnxModule(model_path, double=False) -> torch.nn.Module (the benchmark
        peer uses it to run an ONNX graph in PyTorch)

Supported ops: Conv (groups, dilations, asymmetric pads, auto_pad),
BatchNormalization, PRelu, Relu, Add/Sub/Mul/Div (numpy broadcasting),
Flatten, Reshape, Gemm, MatMul, Dropout, Identity, GlobalAveragePool,
Constant, Concat, Transpose, Shape, Gather, Unsqueeze, Slice (attribute and
input forms), Softmax (opset < 13 and >= 13 semantics), Exp. A constant Reshape shape whose leading entry is 1 is read as the
batch when the batch is larger than 1, so graphs exported with a fixed batch of
one run at any batch size.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _to_tensor(arr, dtype):
    t = torch.from_numpy(np.array(arr, copy=True))
    return t.to(dtype) if t.is_floating_point() else t


class UnsupportedOp(RuntimeError):
    pass


class OnnxModule(torch.nn.Module):
    """Runs an ONNX graph node by node with torch functional ops."""

    def __init__(self, model_path, double=False):
        super().__init__()
        self.dtype = torch.float64 if double else torch.float32
        model = onnx.load(model_path)
        graph = model.graph
        self.consts = {}
        for init in graph.initializer:
            self.consts[init.name] = _to_tensor(numpy_helper.to_array(init), self.dtype)
        self.input_names = [i.name for i in graph.input if i.name not in self.consts]
        if len(self.input_names) != 1:
            raise ValueError("%s: expected one graph input, found %s" % (model_path, self.input_names))
        self.output_names = [o.name for o in graph.output]
        self.opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [1])
        self.nodes = []
        for idx, node in enumerate(graph.node):
            if node.domain not in ("", "ai.onnx"):
                raise UnsupportedOp("node %d (%s): op domain %s not supported" % (idx, node.name, node.domain))
            handler = getattr(self, "_op_" + node.op_type, None)
            if handler is None:
                raise UnsupportedOp("node %d (%s): op %s not supported" % (idx, node.name, node.op_type))
            self.nodes.append((node, handler, _attrs(node)))

    def forward(self, x):
        env = dict(self.consts)
        env[self.input_names[0]] = x.to(self.dtype)
        self._batch = x.shape[0]
        for node, handler, attrs in self.nodes:
            ins = [env[n] if n else None for n in node.input]
            outs = handler(ins, attrs)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            for name, val in zip(node.output, outs):
                if name:
                    env[name] = val
        if len(self.output_names) == 1:
            return env[self.output_names[0]]
        return torch.cat([env[n].reshape(self._batch, -1) for n in self.output_names], dim=1)

    # ---- ops ---------------------------------------------------------------
    def _op_Conv(self, ins, a):
        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 else None
        nsp = w.dim() - 2
        if nsp != 2:
            raise UnsupportedOp("Conv: only 2-D convolutions are supported")
        kernel = list(w.shape[2:])
        strides = list(a.get("strides", [1] * nsp))
        dil = list(a.get("dilations", [1] * nsp))
        group = a.get("group", 1)
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pads_b, pads_e = [], []
            for i in range(nsp):
                size = x.shape[2 + i]
                out = -(-size // strides[i])
                total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - size)
                small, big = total // 2, total - total // 2
                if auto_pad == "SAME_UPPER":
                    pads_b.append(small); pads_e.append(big)
                else:
                    pads_b.append(big); pads_e.append(small)
        elif auto_pad == "VALID":
            pads_b, pads_e = [0] * nsp, [0] * nsp
        else:
            pads = list(a.get("pads", [0] * (2 * nsp)))
            pads_b, pads_e = pads[:nsp], pads[nsp:]
        if pads_b == pads_e:
            return F.conv2d(x, w, b, stride=strides, padding=pads_b, dilation=dil, groups=group)
        # F.pad takes the last dimension first.
        xp = F.pad(x, [pads_b[1], pads_e[1], pads_b[0], pads_e[0]])
        return F.conv2d(xp, w, b, stride=strides, padding=0, dilation=dil, groups=group)

    def _op_BatchNormalization(self, ins, a):
        x, scale, bias, mean, var = ins[:5]
        if a.get("training_mode", 0):
            raise UnsupportedOp("BatchNormalization: training_mode=1 not supported")
        return F.batch_norm(x, mean, var, scale, bias, training=False, eps=a.get("epsilon", 1e-5))

    def _op_PRelu(self, ins, a):
        x, slope = ins
        # Slopes that broadcast as [1,C,1,..] (ONNX aligns trailing dims)
        # map onto F.prelu, the fast path of the PyTorch benchmark peer.
        padded = [1] * (x.dim() - slope.dim()) + list(slope.shape)
        if x.dim() >= 2 and len(padded) == x.dim() and padded[1] == x.shape[1] and \
                all(d == 1 for k, d in enumerate(padded) if k != 1):
            return F.prelu(x, slope.reshape(-1))
        return torch.where(x >= 0, x, x * slope)

    def _op_Relu(self, ins, a):
        return torch.relu(ins[0])

    def _op_Add(self, ins, a):
        return ins[0] + ins[1]

    def _op_Sub(self, ins, a):
        return ins[0] - ins[1]

    def _op_Mul(self, ins, a):
        return ins[0] * ins[1]

    def _op_Div(self, ins, a):
        return ins[0] / ins[1]

    def _op_Flatten(self, ins, a):
        x = ins[0]
        axis = a.get("axis", 1)
        if axis < 0:
            axis += x.dim()
        lead = 1
        for d in x.shape[:axis]:
            lead *= d
        return x.reshape(lead, -1)

    def _op_Reshape(self, ins, a):
        x, shape = ins
        shape = [int(s) for s in shape.tolist()]
        if a.get("allowzero", 0):
            raise UnsupportedOp("Reshape: allowzero=1 not supported")
        for i, s in enumerate(shape):
            if s == 0:
                shape[i] = x.shape[i]
        # Fixed-batch-1 exports hard-code the batch as a leading 1.
        if shape and shape[0] == 1 and self._batch > 1 and x.shape[0] == self._batch:
            shape[0] = self._batch
        return x.reshape(shape)

    def _op_Gemm(self, ins, a):
        A, B = ins[0], ins[1]
        C = ins[2] if len(ins) > 2 else None
        if a.get("transA", 0):
            A = A.t()
        if a.get("transB", 0):
            B = B.t()
        y = a.get("alpha", 1.0) * (A @ B)
        if C is not None:
            y = y + a.get("beta", 1.0) * C
        return y

    def _op_MatMul(self, ins, a):
        return torch.matmul(ins[0], ins[1])

    def _op_Dropout(self, ins, a):
        return [ins[0], torch.ones_like(ins[0], dtype=torch.bool)]

    def _op_Identity(self, ins, a):
        return ins[0]

    def _op_GlobalAveragePool(self, ins, a):
        x = ins[0]
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)

    def _op_Concat(self, ins, a):
        return torch.cat(ins, dim=a["axis"])

    def _op_Transpose(self, ins, a):
        x = ins[0]
        return x.permute(*a.get("perm", list(range(x.dim()))[::-1]))

    def _op_Shape(self, ins, a):
        return torch.tensor(list(ins[0].shape), dtype=torch.int64)

    def _op_Gather(self, ins, a):
        x, idx = ins
        return torch.index_select(x, a.get("axis", 0), idx.reshape(-1).long()).reshape(
            list(x.shape[:a.get("axis", 0)]) + list(idx.shape) + list(x.shape[a.get("axis", 0) + 1:]))

    def _op_Unsqueeze(self, ins, a):
        x = ins[0]
        axes = a["axes"] if "axes" in a else [int(v) for v in ins[1].tolist()]
        rank = x.dim() + len(axes)
        for ax in sorted(v + rank if v < 0 else v for v in axes):
            x = x.unsqueeze(ax)
        return x

    def _op_Slice(self, ins, a):
        x = ins[0]
        if "starts" in a:
            starts, ends = a["starts"], a["ends"]
            axes = a.get("axes", list(range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts, ends = ins[1].tolist(), ins[2].tolist()
            axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
            steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        idx = [slice(None)] * x.dim()
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            if sp <= 0:
                raise UnsupportedOp("Slice: only positive steps are supported")
            n = x.shape[ax]
            st = max(0, min(n, st + n if st < 0 else st))
            en = max(0, min(n, en + n if en < 0 else en))
            idx[ax] = slice(int(st), int(en), int(sp))
        return x[tuple(idx)]

    def _op_Softmax(self, ins, a):
        x = ins[0]
        if self.opset >= 13:
            return torch.softmax(x, dim=a.get("axis", -1))
        axis = a.get("axis", 1)
        axis = axis + x.dim() if axis < 0 else axis
        flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
        return torch.softmax(flat, dim=1).reshape(x.shape)

    def _op_Exp(self, ins, a):
        return torch.exp(ins[0])

    def _op_Constant(self, ins, a):
        if "value" not in a:
            raise UnsupportedOp("Constant: only the 'value' attribute is supported")
        return _to_tensor(numpy_helper.to_array(a["value"]), self.dtype)


def run(model_path, x, double=False):
    """Runs MODEL on the NCHW array x; returns the first output as numpy."""
    module = OnnxModule(model_path, double=double)
    with torch.no_grad():
        y = module(torch.from_numpy(np.ascontiguousarray(x)))
    return y.numpy()


def selftest():
    """Checks the paths make_golden.py's graphs do not reach against numpy:
    Gemm transA, Constant, auto_pad SAME_UPPER, BN on 2-D input, Reshape of a
    leading-1 shape at batch 2, Div/Sub of two tensors."""
    import tempfile
    from onnx import helper, TensorProto
    rng = np.random.default_rng(7)
    f = lambda *s: rng.standard_normal(s).astype(np.float32).astype(np.float64)  # noqa: E731
    W, Bv = f(6, 3), f(3)
    sc, bi, mu, var = f(3), f(3), f(3), rng.uniform(0.5, 2, 3)
    Wc = f(2, 3, 2, 2)
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in
             dict(W=W, Bv=Bv, sc=sc, bi=bi, mu=mu, var=var, Wc=Wc).items()]
    inits.append(numpy_helper.from_array(np.array([1, -1], np.int64), "shape"))
    conv_nodes = [
        helper.make_node("Conv", ["input", "Wc"], ["c"], kernel_shape=[2, 2], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("Reshape", ["c", "shape"], ["r"]),             # [1,-1] at batch 2
    ]
    mat_nodes = [
        helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.float32(3.0))),
        helper.make_node("Gemm", ["AT", "W", "Bv"], ["g"], transA=1, alpha=0.25, beta=0.5),
        helper.make_node("BatchNormalization", ["g", "sc", "bi", "mu", "var"], ["bn"], epsilon=1e-3),
        helper.make_node("Div", ["bn", "k"], ["d"]),
        helper.make_node("Sub", ["d", "bn"], ["out1"]),
    ]
    # Two graphs: one for the conv/reshape path, one for the matrix path.
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        g1 = helper.make_graph(conv_nodes, "t1",
                               [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 5, 5])],
                               [helper.make_tensor_value_info("r", TensorProto.FLOAT, None)], inits)
        g2 = helper.make_graph(mat_nodes, "t2",
                               [helper.make_tensor_value_info("AT", TensorProto.FLOAT, [6, 2])],
                               [helper.make_tensor_value_info("out1", TensorProto.FLOAT, None)],
                               inits)
        for i, g in enumerate((g1, g2)):
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            onnx.save(m, os.path.join(tmp, "t%d.onnx" % i))
        x = f(2, 3, 5, 5)
        # SAME_UPPER, stride 2, kernel 2 on 5: out 3, total pad 1 -> at the end.
        xp = np.zeros((2, 3, 6, 6))
        xp[:, :, :5, :5] = x
        c = np.zeros((2, 2, 3, 3))
        for i in range(3):
            for j in range(3):
                c[:, :, i, j] = np.tensordot(xp[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2], Wc,
                                             axes=([1, 2, 3], [1, 2, 3]))
        want1 = c.reshape(2, -1)
        got1 = run(os.path.join(tmp, "t0.onnx"), x, double=True)
        AT = f(6, 2)
        g = 0.25 * AT.T @ W + 0.5 * Bv
        bn = (g - mu) / np.sqrt(var + 1e-3) * sc + bi
        want2 = bn / 3.0 - bn
        got2 = run(os.path.join(tmp, "t1.onnx"), AT, double=True)
        for name, got, want in (("conv/reshape", got1, want1), ("gemm/bn/div/sub", got2, want2)):
            err = np.max(np.abs(got - want)) / np.max(np.abs(want))
            print("selftest %s: max rel err %.2e" % (name, err))
            ok &= got.shape == want.shape and err < 1e-6
    return ok


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv == ["--selftest"]:
        return 0 if selftest() else 1
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--input", required=True, help="NCHW float .npy")
    p.add_argument("--output", required=True, help=".npy to write (float32, or float64 with --double)")
    p.add_argument("--double", action="store_true", help="compute in float64")
    args = p.parse_args(argv)
    x = np.load(args.input)
    try:
        y = run(args.model, x, double=args.double)
    except UnsupportedOp as e:
        print("onnx_torch_ref: %s: %s" % (args.model, e), file=sys.stderr)
        return 2
    tmp = args.output + ".tmp.npy"
    np.save(tmp, y)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
