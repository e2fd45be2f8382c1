#!/usr/bin/python3
"""Independent SER-FIQ and PLQ reference (PyTorch autograd, float64) for
xfiq's golden test, given the SAME dropout masks xfiq used.

SER-FIQ here is the naive method of the original code: the WHOLE network
runs T times per image with dropout applied at the embedding layer (the
masks multiply that value); xfiq runs the network once and only the head T
times, so agreement checks that shortcut too. PLQ: the quality regression
Qhat of the chosen mode on the deterministic embedding, differentiated by
autograd down to the 8-bit pixels through the card's preprocessing.
A central finite difference of Qhat in float64 on a few pixels checks
autograd itself.

Usage: serfiq_plq_ref.py MODEL.onnx CARD.json FACES.npy MASKS.npy PARAMS.json OUT_PREFIX
FACES.npy (N,H,W,3) pixel values; MASKS.npy (N*T, E) multipliers (0 or 1/(1-p));
PARAMS.json {"T":..,"alpha":..,"r":..,"mode":"paper|signed","a":..,"b":..}.
Writes float32 OUT_PREFIX_<k>.npy for k in q_raw (N), q (N), grad (N,3,H,W)
dQhat/dpixel (RGB planar), m (N,H,W), p (N,H,W), fd_rel (N).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_torch_ref  # noqa: E402


class Hooked(onnx_torch_ref.OnnxModule):
    """OnnxModule that multiplies one named value by a mask when it is produced."""

    def __init__(self, path, value):
        super().__init__(path, double=True)
        self.value, self.mask = value, None

    def forward(self, x):
        env = dict(self.consts)
        env[self.input_names[0]] = x.to(self.dtype)
        self._batch = x.shape[0]
        for node, handler, attrs in self.nodes:
            outs = handler([env[n] if n else None for n in node.input], attrs)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            for name, val in zip(node.output, outs):
                if name:
                    if name == self.value and self.mask is not None:
                        val = val * self.mask.reshape(val.shape)
                    env[name] = val
        return env[self.output_names[0]]


def preprocess(p, card):
    x = p[..., [2, 1, 0]] if card["input"]["order"] == "BGR" else p
    mean = torch.tensor(card["input"]["mean"], dtype=torch.float64)
    scale = torch.tensor(card["input"]["scale"], dtype=torch.float64)
    return ((x - mean) * scale).permute(0, 3, 1, 2)


def qhat(net, p, card, mode, q, e0):
    z = net(preprocess(p, card))[0].reshape(-1)
    e = z / z.norm()
    if mode == "paper":
        return q / e0.sum() * e.sum()
    s = torch.sign(e0)
    return q * (s @ e) / (s @ e0)


def main(model, card_path, faces, masks, params, out):
    card = json.load(open(card_path))
    prm = json.load(open(params))
    T, alpha, r, mode = prm["T"], prm["alpha"], prm["r"], prm["mode"]
    net = Hooked(model, card["embedding_layer"])
    px = torch.from_numpy(np.load(faces).astype(np.float64))
    mk = torch.from_numpy(np.load(masks).astype(np.float64))
    N, H, W, _ = px.shape
    res = {k: [] for k in ("q_raw", "q", "grad", "m", "p", "fd_rel")}
    for i in range(N):
        p = px[i:i + 1]
        with torch.no_grad():
            emb = []
            for t in range(T):
                net.mask = mk[i * T + t]
                z = net(preprocess(p, card))[0].reshape(-1)
                emb.append(z / z.norm())
            net.mask = None
            X = torch.stack(emb)
            d = torch.cdist(X, X)[torch.triu(torch.ones(T, T, dtype=torch.bool), 1)].mean()
            q_raw = 2.0 / (1.0 + torch.exp(d))
            q = 1.0 / (1.0 + torch.exp(-alpha * (q_raw - r)))
            z0 = net(preprocess(p, card))[0].reshape(-1)
            e0 = z0 / z0.norm()
        pg = p.clone().requires_grad_(True)
        qh = qhat(net, pg, card, mode, q, e0)
        (g,) = torch.autograd.grad(qh, pg)
        g = g[0].permute(2, 0, 1)  # (3,H,W), RGB
        m = g.abs().mean(0)
        P = 1.0 - 1.0 / (1.0 + prm["a"] * m ** prm["b"])
        # Central differences on the 5 pixels with the largest gradient (float64).
        flat = g.abs().reshape(-1)
        worst = 0.0
        for idx in torch.topk(flat, 5).indices.tolist():
            c, yy, xx = idx // (H * W), (idx // W) % H, idx % W
            h = 1e-4
            with torch.no_grad():
                pp, pm = p.clone(), p.clone()
                pp[0, yy, xx, c] += h
                pm[0, yy, xx, c] -= h
                fd = (qhat(net, pp, card, mode, q, e0) - qhat(net, pm, card, mode, q, e0)) / (2 * h)
            worst = max(worst, abs(float(fd) - float(g[c, yy, xx])) / max(abs(float(g[c, yy, xx])), 1e-30))
        res["q_raw"].append(float(q_raw))
        res["q"].append(float(q))
        res["grad"].append(g.numpy())
        res["m"].append(m.numpy())
        res["p"].append(P.numpy())
        res["fd_rel"].append(worst)
    for k, v in res.items():
        path = "%s_%s.npy" % (out, k)
        np.save(path + ".tmp.npy", np.array(v, np.float32))
        os.replace(path + ".tmp.npy", path)
    print("serfiq_plq_ref: %d images, T=%d, mode %s, autograd vs finite differences max rel %.2e"
          % (N, T, mode, max(res["fd_rel"])))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
