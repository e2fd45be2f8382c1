#!/usr/bin/python3
"""PyTorch CPU peer for xfiq's SER-FIQ and PLQ benchmark: the same algorithms
(SPEC 3, 4) on the same network, in float32, printing one JSON line in the
format of peer_torch.py plus the per-image time.

Networks: --model M.onnx runs the ONNX file xfiq runs, as a torch module
(tests/ref/onnx_torch_ref.py); the dropout point is the card's
embedding_layer value. --iresnet 50 runs the native PyTorch iResNet
(models/export_iresnet.py, MagFace layout, random weights) with dropout on
its flattened 25088-d feature, the form in which PyTorch users run it.

Algorithms (--algo):
  serfiq_smart  network once up to the embedding layer, then the T dropout
                heads of the whole batch as one batched head (B*T rows: one
                matmul for these models)
  serfiq_naive  the original method: the whole network T times, dropout at
                the embedding layer (the hook of tests/ref/serfiq_plq_ref.py)
  plq           SER-FIQ (smart) for Q, then autograd of the quality
                regression (mode of the card's calibration, else 'signed')
                back to the 8-bit input pixels: one forward with autograd, T
                heads, one backward; map P = 1 - 1/(1 + a m^b)
Faces: random 8-bit pixels from a fixed seed, preprocessed per the card
inside the timed region (as xfiq does).

Output: img_per_s = batch * iters / total time; img_per_s_median = batch /
median iteration time; ms_per_img_median = its inverse in ms; q_raw_mean =
mean raw SER-FIQ of the batch (a sanity check against xfiq's, which uses
other masks: equal within the stochastic spread).

Usage: peer_torch_quality.py (--model M.onnx [--card C.json] | --iresnet 50)
         --algo serfiq_smart|serfiq_naive|plq [--batch 1] [--iters 5]
         [--threads 2] [--warmup 1] [--T 100] [--p 0.5]
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
sys.path.insert(0, os.path.join(ROOT, "models"))

PUBLISHED = {"serfiq_alpha": 130.0, "serfiq_r": 0.88, "plq_a": 10 ** 7.5, "plq_b": 2.0, "plq_mode": "signed"}


def load_card(path):
    card = json.load(open(path))
    cal = dict(PUBLISHED)
    cal.update(card.get("calibration", {}))
    return card, cal


class OnnxNet:
    """The ONNX graph split at the embedding-layer value: trunk(x) -> value,
    head(value) -> embedding; naive(x, mask) runs the whole graph with the
    value multiplied by mask (serfiq_plq_ref.Hooked, in float32)."""

    def __init__(self, path, value):
        import onnx_torch_ref
        import serfiq_plq_ref

        class Hooked32(serfiq_plq_ref.Hooked):
            def __init__(self, path, value):
                onnx_torch_ref.OnnxModule.__init__(self, path, double=False)
                self.value, self.mask = value, None

        self.net = Hooked32(path, value)
        self.net.eval()
        nodes = self.net.nodes
        cut = [k for k, (node, _, _) in enumerate(nodes) if value in node.output]
        if not cut:
            raise ValueError("%s: no node produces the embedding-layer value '%s'" % (path, value))
        self.trunk_nodes, self.head_nodes = nodes[:cut[0] + 1], nodes[cut[0] + 1:]
        self.value = value
        # The head must read only the value, constants and its own outputs.
        known = set(self.net.consts) | {value}
        for node, _, _ in self.head_nodes:
            missing = [n for n in node.input if n and n not in known]
            if missing:
                raise ValueError("head node %s reads trunk values %s" % (node.name, missing))
            known.update(node.output)

    def _walk(self, nodes, env, batch):
        self.net._batch = batch  # Reshape [1,-1] of fixed-batch-1 graphs reads it
        for node, handler, attrs in nodes:
            outs = handler([env[n] if n else None for n in node.input], attrs)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            env.update((n, v) for n, v in zip(node.output, outs) if n)
        return env

    def trunk(self, x):
        env = dict(self.net.consts)
        env[self.net.input_names[0]] = x
        return self._walk(self.trunk_nodes, env, x.shape[0])[self.value]

    def head(self, v):
        env = dict(self.net.consts)
        env[self.value] = v
        return self._walk(self.head_nodes, env, v.shape[0])[self.net.output_names[0]].reshape(v.shape[0], -1)

    def naive(self, x, mask):
        self.net.mask = mask
        try:
            return self.net(x).reshape(x.shape[0], -1)
        finally:
            self.net.mask = None


class NativeIResNet:
    """models/export_iresnet.py's module: trunk up to the flatten, head = fc +
    BatchNorm1d; naive runs forward() with its Dropout layer active (MC
    dropout, as the original SER-FIQ code does)."""

    def __init__(self, depth):
        import export_iresnet
        self.m = export_iresnet.randomize(export_iresnet.build_iresnet(depth, "magface"), 0)
        self.m.eval()
        self.m.requires_grad_(False)  # PLQ needs no weight gradients

    def trunk(self, x):
        m = self.m
        x = m.prelu(m.bn1(m.conv1(x)))
        x = m.layer4(m.layer3(m.layer2(m.layer1(x))))
        return torch.flatten(m.bn2(x), 1)

    def head(self, v):
        return self.m.features(self.m.fc(v))

    def naive(self, x, p):
        self.m.dropout.p = p
        self.m.dropout.train()
        try:
            return self.m(x)
        finally:
            self.m.dropout.eval()


def preprocess(px, card):
    """(B,H,W,3) RGB pixels -> the model's NCHW float32 input."""
    inp = card["input"]
    x = px[..., [2, 1, 0]] if inp["order"] == "BGR" else px
    mean = torch.tensor(inp["mean"], dtype=torch.float32)
    scale = torch.tensor(inp["scale"], dtype=torch.float32)
    return ((x - mean) * scale).permute(0, 3, 1, 2)


def serfiq_scores(e, alpha, r):
    """e: (B,T,D) normalised stochastic embeddings -> (scaled Q, raw q) (B)."""
    T = e.shape[1]
    iu = torch.triu_indices(T, T, 1)
    d = torch.cdist(e, e)[:, iu[0], iu[1]].mean(1)
    q_raw = 2.0 / (1.0 + torch.exp(d))
    return torch.sigmoid(alpha * (q_raw - r)), q_raw


def heads(net, v, T, p):
    """T dropout passes of the head for the whole batch as one B*T-row call."""
    rep = v.repeat_interleave(T, 0)
    z = net.head(F.dropout(rep, p, training=True))
    return F.normalize(z, dim=1).reshape(v.shape[0], T, -1)


def serfiq_smart(net, px, card, cal, T, p):
    with torch.no_grad():
        v = net.trunk(preprocess(px, card))
        return serfiq_scores(heads(net, v, T, p), cal["serfiq_alpha"], cal["serfiq_r"])


def serfiq_naive(net, px, card, cal, T, p, native):
    with torch.no_grad():
        x = preprocess(px, card)
        E = None
        es = []
        for _ in range(T):
            if native:
                z = net.naive(x, p)
            else:
                if E is None:
                    E = net.trunk(x[:1]).numel()
                mask = (torch.rand(x.shape[0], E) >= p).float() / (1.0 - p)
                z = net.naive(x, mask)
            es.append(F.normalize(z, dim=1))
        return serfiq_scores(torch.stack(es, 1), cal["serfiq_alpha"], cal["serfiq_r"])


def plq(net, px, card, cal, T, p):
    pg = px.clone().requires_grad_(True)
    v = net.trunk(preprocess(pg, card))
    z = net.head(v)
    with torch.no_grad():
        q, q_raw = serfiq_scores(heads(net, v.detach(), T, p), cal["serfiq_alpha"], cal["serfiq_r"])
    e = F.normalize(z, dim=1)
    e0 = e.detach()
    mode = cal["plq_mode"]
    if mode == "paper":
        qhat = q / e0.sum(1) * e.sum(1)
    elif mode == "signed":
        s = torch.sign(e0)
        qhat = q * (s * e).sum(1) / (s * e0).sum(1)
    elif mode == "magnitude":
        qhat = q * (e0 * z).sum(1) / z.detach().norm(dim=1)
    else:
        raise ValueError("unknown plq_mode %s" % mode)
    (g,) = torch.autograd.grad(qhat.sum(), pg)  # images are independent: one backward serves all
    m = g.abs().mean(3)
    P = 1.0 - 1.0 / (1.0 + cal["plq_a"] * m ** cal["plq_b"])
    return q, q_raw, P


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch CPU SER-FIQ / PLQ benchmark peer.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="ONNX file (the card beside it, or --card)")
    src.add_argument("--iresnet", help="native iResNet depth (18/34/50/100/200)")
    ap.add_argument("--card", help="model card (default: <model>.card.json)")
    ap.add_argument("--algo", required=True, choices=["serfiq_smart", "serfiq_naive", "plq"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--p", type=float, default=0.5)
    args = ap.parse_args(argv)
    if min(args.batch, args.iters, args.threads) < 1 or args.warmup < 0 or args.T < 2:
        ap.error("--batch, --iters, --threads must be >= 1, --warmup >= 0, --T >= 2")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.model:
        card_path = args.card or os.path.splitext(args.model)[0] + ".card.json"
        card, cal = load_card(card_path)
        if not card.get("embedding_layer"):
            import export_iresnet
            card["embedding_layer"] = export_iresnet.find_embedding_layer(args.model)
        net, native, name = OnnxNet(args.model, card["embedding_layer"]), False, os.path.basename(args.model)
        size = card["input"]["height"], card["input"]["width"]
    else:
        card, cal = load_card(args.card or os.path.join(ROOT, "models", "iresnet-magface.card.json"))
        net, native = NativeIResNet(args.iresnet), True
        name = "iresnet%s (native torch)" % args.iresnet
        size = net.m.input_size, net.m.input_size
    g = torch.Generator().manual_seed(0)
    px = torch.randint(0, 256, (args.batch, size[0], size[1], 3), generator=g).float()

    def once():
        if args.algo == "serfiq_smart":
            return serfiq_smart(net, px, card, cal, args.T, args.p)
        if args.algo == "serfiq_naive":
            return serfiq_naive(net, px, card, cal, args.T, args.p, native)
        return plq(net, px, card, cal, args.T, args.p)

    with torch.no_grad():
        net.head(net.trunk(preprocess(px, card)))  # first-call allocations outside the timing
    for _ in range(args.warmup):
        once()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        res = once()
        times.append(time.perf_counter() - t0)
    q_raw = res[1]
    median = sorted(times)[len(times) // 2]  # resists other tenants of a shared machine
    print(json.dumps({"peer": "pytorch", "algo": args.algo, "version": torch.__version__, "model": name,
                      "batch": args.batch, "threads": args.threads, "iters": args.iters, "T": args.T,
                      "img_per_s": round(args.batch * args.iters / sum(times), 3),
                      "img_per_s_median": round(args.batch / median, 3),
                      "ms_per_img_median": round(1e3 * median / args.batch, 3),
                      "q_raw_mean": round(float(q_raw.mean()), 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
