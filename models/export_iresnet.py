#!/usr/bin/python3
"""Exports iResNet face networks (SPEC 2.1) to ONNX with PyTorch.

Layouts: `magface` (BN eps 2e-5, card: BGR, x/255) and `insightface`
(arcface_torch, BN eps 1e-5, card: RGB, (x-127.5)/127.5). Depths 18/34/50/100/200
and `tiny` (16/32/64/128 channels, one block per stage, 32x32 input, 64-d
embedding) for fast tests. Weights come from --checkpoint (a state_dict of the
MagFace or arcface_torch module; common wrapper prefixes are stripped) or are
random with a seed, including random BN running statistics and affine
parameters and PReLU slopes, so that BN folding is really exercised.

The model card is written beside the model (X.onnx -> X.card.json) with the
name of the flattened input of the final Gemm as embedding_layer.

Usage:
  export_iresnet.py --depth 50 --layout magface --out r50.onnx
  export_iresnet.py --depth tiny --layout magface --out tiny.onnx --keep-bn
  export_iresnet.py --depth 100 --checkpoint magface_r100.pth --out r100.onnx
Module use (peers, golden generator):
  build_iresnet(depth, layout, input_size=None, embedding_size=None)
  randomize(model, seed); count_params_macs(model, input_size)
"""
import argparse
import json
import os
import sys
import warnings

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))

BLOCKS = {"18": [2, 2, 2, 2], "34": [3, 4, 6, 3], "50": [3, 4, 14, 3],
          "100": [3, 13, 30, 3], "200": [6, 26, 60, 6], "tiny": [1, 1, 1, 1]}
WIDTHS = {"tiny": [16, 32, 64, 128]}
DEFAULT_WIDTHS = [64, 128, 256, 512]
EPS = {"magface": 2e-5, "insightface": 1e-5}


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class IBasicBlock(nn.Module):
    """BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride) -> BN, plus shortcut."""

    def __init__(self, cin, cout, stride, eps):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=eps)
        self.conv1 = conv3x3(cin, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.prelu = nn.PReLU(cout)
        self.conv2 = conv3x3(cout, cout, stride)
        self.bn3 = nn.BatchNorm2d(cout, eps=eps)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout, eps=eps))

    def forward(self, x):
        y = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return y + shortcut


class IResNet(nn.Module):
    """Attribute names follow MagFace/arcface_torch so their state_dicts load."""

    def __init__(self, blocks, widths, eps, input_size=112, embedding_size=512, dropout=0.0):
        super().__init__()
        self.input_size = input_size
        self.conv1 = conv3x3(3, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0], eps=eps)
        self.prelu = nn.PReLU(widths[0])
        cin = widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            layers = [IBasicBlock(cin, w, 2, eps)]
            layers += [IBasicBlock(w, w, 1, eps) for _ in range(n - 1)]
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
            cin = w
        if input_size % 16:
            raise ValueError("input size %d is not a multiple of 16" % input_size)
        side = input_size // 16
        self.bn2 = nn.BatchNorm2d(cin, eps=eps)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(cin * side * side, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=eps)

    def forward(self, x):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn2(x))
        x = torch.flatten(x, 1)
        return self.features(self.fc(x))


def build_iresnet(depth, layout="magface", input_size=None, embedding_size=None):
    depth = str(depth)
    if depth not in BLOCKS:
        raise ValueError("unknown depth %s (choose from %s)" % (depth, ", ".join(BLOCKS)))
    if layout not in EPS:
        raise ValueError("unknown layout %s (magface or insightface)" % layout)
    tiny = depth == "tiny"
    if input_size is None:
        input_size = 32 if tiny else 112
    if embedding_size is None:
        embedding_size = 64 if tiny else 512
    return IResNet(BLOCKS[depth], WIDTHS.get(depth, DEFAULT_WIDTHS), EPS[layout],
                   input_size=input_size, embedding_size=embedding_size)


def randomize(model, seed, calib_batch=8):
    """Random weights plus non-trivial BN statistics/affine and PReLU slopes.

    BN running statistics are first measured on a random batch (so activations
    stay O(1) through deep nets, as in a trained network, instead of growing
    block after block) and then perturbed, so no BN is an identity or exactly
    normalising and folding it is really exercised."""
    g = torch.Generator().manual_seed(seed)

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(uniform(m.bias.shape, -0.1, 0.1))
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(uniform(m.weight.shape, 0.5, 1.5))
                m.bias.copy_(uniform(m.bias.shape, -0.2, 0.2))
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(uniform(m.weight.shape, 0.05, 0.4))
        size = getattr(model, "input_size", None)
        if size and calib_batch > 1:
            saved = [b.momentum for b in bns]
            for b in bns:
                b.momentum = 1.0    # running stats := this batch's stats
            model.train()
            model(torch.randn(calib_batch, 3, size, size, generator=g))
            for b, mom in zip(bns, saved):
                b.momentum = mom
        for b in bns:
            std = b.running_var.clamp_min(1e-6).sqrt()
            b.running_mean.add_(uniform(std.shape, -0.2, 0.2) * std)
            b.running_var.mul_(uniform(std.shape, 0.7, 1.4))
    model.eval()
    return model


def load_checkpoint(model, path):
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    # MagFace keeps the backbone under features.module. next to its classifier.
    if any(k.startswith("features.module.") for k in sd):
        sd = {k[len("features.module."):]: v for k, v in sd.items() if k.startswith("features.module.")}
    sd = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}
    model.load_state_dict(sd, strict=True)
    return model


def count_params_macs(model, input_size):
    """Parameters and multiply-adds of Conv/Linear layers for one image."""
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs[0] += out[0].numel() * m.weight[0].numel()
        else:
            macs[0] += m.weight.numel()

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, input_size, input_size))
    model.train(was_training)
    for h in hs:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return params, macs[0]


def find_embedding_layer(onnx_path):
    """Name of the value that feeds the last Gemm/MatMul (the flattened map)."""
    import onnx
    m = onnx.load(onnx_path)
    for node in reversed(m.graph.node):
        if node.op_type in ("Gemm", "MatMul"):
            return node.input[0]
    return ""


def write_json_atomic(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def card_path_for(onnx_path):
    base = onnx_path[:-5] if onnx_path.endswith(".onnx") else onnx_path
    return base + ".card.json"


def export_onnx(model, out, input_size, dynamic_batch=False, opset=13, keep_bn=False):
    """Exports in eval mode. keep_bn keeps every BatchNormalization node
    (no exporter Conv+BN fusion) so the consumer's own folding is tested."""
    model.eval()
    x = torch.zeros(1, 3, input_size, input_size)
    dyn = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    tmp = out + ".tmp"
    # PRESERVE on a module in eval mode is inference; the exporter's warning
    # about constant folding in training mode does not apply.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    torch.onnx.export(model, x, tmp, input_names=["input"], output_names=["output"],
                      dynamic_axes=dyn, opset_version=opset, training=mode,
                      do_constant_folding=True)
    constants_to_initializers(tmp)
    os.replace(tmp, out)


def constants_to_initializers(path):
    """Moves Constant nodes into graph initializers, as in the real exports
    (fr_feature.onnx keeps its Reshape shape [1,-1] as an initializer)."""
    import onnx
    m = onnx.load(path)
    keep = []
    for node in m.graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(node.attribute[0].t)
            t.name = node.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(node)
    if len(keep) != len(m.graph.node):
        del m.graph.node[:]
        m.graph.node.extend(keep)
        onnx.checker.check_model(m)
        onnx.save(m, path)


def write_card(onnx_path, layout, name, input_size, source):
    with open(os.path.join(HERE, "iresnet-%s.card.json" % layout)) as f:
        card = json.load(f)
    card["name"] = name
    card["input"]["width"] = card["input"]["height"] = input_size
    card["embedding_layer"] = find_embedding_layer(onnx_path)
    card["source"] = source
    path = card_path_for(onnx_path)
    write_json_atomic(path, card)
    return path, card


def main(argv=None):
    p = argparse.ArgumentParser(description="Export an iResNet (SPEC 2.1) to ONNX.")
    p.add_argument("--depth", default="50", choices=sorted(BLOCKS))
    p.add_argument("--layout", default="magface", choices=sorted(EPS))
    p.add_argument("--out", required=True, help="output .onnx (the card goes beside it)")
    p.add_argument("--checkpoint", help="state_dict to load instead of random weights")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--input-size", type=int, help="square input side (default 112, tiny 32)")
    p.add_argument("--embedding-size", type=int, help="default 512, tiny 64")
    p.add_argument("--dynamic-batch", action="store_true", help="symbolic batch (default: fixed 1)")
    p.add_argument("--opset", type=int, default=13, choices=[11, 13])
    p.add_argument("--keep-bn", action="store_true",
                   help="keep Conv->BN pairs unfused in the ONNX graph")
    args = p.parse_args(argv)

    model = build_iresnet(args.depth, args.layout, args.input_size, args.embedding_size)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint)
        source = "iResNet-%s %s layout, weights from %s" % (args.depth, args.layout,
                                                            os.path.basename(args.checkpoint))
    else:
        randomize(model, args.seed)
        source = "iResNet-%s %s layout, random weights (seed %d), models/export_iresnet.py" % (
            args.depth, args.layout, args.seed)
    params, macs = count_params_macs(model, model.input_size)
    export_onnx(model, args.out, model.input_size, args.dynamic_batch, args.opset, args.keep_bn)
    name = "iresnet%s-%s" % ("-tiny" if args.depth == "tiny" else args.depth, args.layout)
    card, c = write_card(args.out, args.layout, name, model.input_size, source)
    print("%s: iResNet-%s %s, input %dx%d, params %.2f M, MACs %.3f G, embedding_layer '%s', card %s"
          % (args.out, args.depth, args.layout, model.input_size, model.input_size,
             params / 1e6, macs / 1e9, c["embedding_layer"], card))
    return 0


if __name__ == "__main__":
    sys.exit(main())
