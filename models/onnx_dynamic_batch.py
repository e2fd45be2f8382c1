#!/usr/bin/python3
"""Rewrites a fixed-batch-1 ONNX graph so that it runs at any batch size.

Peers such as ONNX Runtime honour the fixed [1,3,112,112] input of real
exports (fr_feature.onnx); to benchmark them at batch 64 on the same network,
the input's and outputs' leading dimension becomes the symbolic "batch", and
each constant Reshape shape whose leading entry is 1 (e.g. [1,-1]) gets a 0
there ("copy the input's batch"). Intermediate value_info is dropped so no
stale batch-1 shapes remain. The result is checked against the original at
batch 1, and batch 2 against two batch-1 runs, with tests/ref/onnx_torch_ref.py.

Usage: onnx_dynamic_batch.py IN.onnx OUT.onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def make_dynamic(model):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    for vi in list(g.input) + list(g.output):
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) and dims[0].HasField("dim_value") and dims[0].dim_value != 1:
            raise ValueError("%s has a fixed batch of %d, not 1" % (vi.name, dims[0].dim_value))
        if len(dims):
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "batch"
    del g.value_info[:]

    changed, replaced = [], set()
    for node in g.node:
        if node.op_type != "Reshape" or node.input[1] not in inits:
            continue
        shape = numpy_helper.to_array(inits[node.input[1]]).copy()
        if shape.size == 0 or shape[0] != 1:
            continue
        shape[0] = 0
        name = node.input[1] + "_dynbatch"
        if name not in inits:
            new = numpy_helper.from_array(shape.astype(np.int64), name=name)
            g.initializer.append(new)
            inits[name] = new
        replaced.add(node.input[1])
        node.input[1] = name
        changed.append(node.name or node.output[0])
    # Drop the old shape initializers no node reads any more.
    used = {n for node in g.node for n in node.input}
    keep = [i for i in g.initializer if i.name in used or i.name not in replaced]
    del g.initializer[:]
    g.initializer.extend(keep)
    return changed


def verify(orig_path, new_path):
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "ref"))
    import onnx_torch_ref
    m = onnx.load(orig_path)
    inits = {i.name for i in m.graph.initializer}
    inp = [i for i in m.graph.input if i.name not in inits][0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    rng = np.random.default_rng(0)
    x = rng.standard_normal([2] + shape[1:])
    a = onnx_torch_ref.run(orig_path, x[:1], double=True)
    b = onnx_torch_ref.run(new_path, x[:1], double=True)
    a2 = np.concatenate([a, onnx_torch_ref.run(orig_path, x[1:], double=True)])
    b2 = onnx_torch_ref.run(new_path, x, double=True)
    scale = max(np.max(np.abs(a2)), 1e-30)
    return float(np.max(np.abs(a - b)) / scale), float(np.max(np.abs(a2 - b2)) / scale)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    model = onnx.load(src)
    changed = make_dynamic(model)
    onnx.checker.check_model(model)
    tmp = dst + ".tmp"
    onnx.save(model, tmp)
    try:
        e1, e2 = verify(src, tmp)
    except Exception:
        os.unlink(tmp)
        raise
    if e1 > 1e-12 or e2 > 1e-12:
        os.unlink(tmp)
        print("onnx_dynamic_batch: %s: rewritten graph differs (rel err %.2e / %.2e)" % (src, e1, e2),
              file=sys.stderr)
        return 1
    os.replace(tmp, dst)
    print("onnx_dynamic_batch: wrote %s (Reshape nodes rewritten: %s; rel err batch 1 %.1e, batch 2 %.1e)"
          % (dst, ", ".join(changed) or "none", e1, e2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
