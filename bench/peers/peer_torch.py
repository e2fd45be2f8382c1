#!/usr/bin/python3
"""PyTorch CPU peer for xfiq's benchmark: prints one JSON line with images/s.

--model M.onnx runs the very ONNX file xfiq runs, as a torch module built by
tests/ref/onnx_torch_ref.py (F.conv2d, F.prelu, ... in fp32; fixed-batch-1
graphs run at any batch). --iresnet DEPTH runs the native PyTorch iResNet
(models/export_iresnet.py, MagFace layout, random weights) instead, the form
in which PyTorch users run it.

Output: img_per_s = batch * iters / total time; img_per_s_median = batch /
median iteration time (robust to other load on a shared machine).

Usage: peer_torch.py (--model M.onnx | --iresnet 50) [--batch 1] [--iters 20]
                     [--threads 2] [--warmup 3]
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
sys.path.insert(0, os.path.join(ROOT, "models"))


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch CPU benchmark peer.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="ONNX file to run through the torch graph converter")
    src.add_argument("--iresnet", help="native iResNet depth (18/34/50/100/200/tiny)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args(argv)
    if min(args.batch, args.iters, args.threads) < 1 or args.warmup < 0:
        p.error("--batch, --iters, --threads must be >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)
    if args.model:
        import onnx
        import onnx_torch_ref
        module = onnx_torch_ref.OnnxModule(args.model)
        g = onnx.load(args.model, load_external_data=False).graph
        inits = {i.name for i in g.initializer}
        inp = [i for i in g.input if i.name not in inits][0]
        chw = [d.dim_value for d in inp.type.tensor_type.shape.dim][1:]
        name = os.path.basename(args.model)
    else:
        import export_iresnet
        module = export_iresnet.randomize(export_iresnet.build_iresnet(args.iresnet, "magface"), 0)
        chw = [3, module.input_size, module.input_size]
        name = "iresnet%s (native torch)" % args.iresnet
    module.eval()
    x = torch.rand([args.batch] + chw, generator=torch.Generator().manual_seed(0)) * 2 - 1

    with torch.no_grad():
        for _ in range(args.warmup):
            module(x)
        times = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - t0)
    # The median rate resists other tenants of a shared 2-core machine.
    median = sorted(times)[len(times) // 2]
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "model": name,
                      "batch": args.batch, "threads": args.threads, "iters": args.iters,
                      "img_per_s": round(args.batch * args.iters / sum(times), 2),
                      "img_per_s_median": round(args.batch / median, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
