#!/usr/bin/env python3
"""PyTorch eager peer of bench_gpu (bench/gpu_check.sh): the same ONNX file,
the same algorithms, the same batch, on the same GPU, one JSON line per
(precision, task) in the format of bench_gpu.

Network: the ONNX graph run node by node with torch functional ops
(tests/ref/onnx_torch_ref.py through peer_torch_quality.OnnxNet, split at the
card's embedding_layer), its weights moved to the device: the same weights
xfiq reads, whichever exporter wrote the file.

Tasks (per image: host uint8 pixels in, results back in host memory, as
xfiq's public calls do; the timed region is synchronised on both ends):
  embed         preprocessing + forward
  serfiq        once-then-T-heads: trunk once, the B*T dropout heads as one
                batched head, cdist, Q (the shortcut xfiq takes)
  serfiq_naive  the original method: the whole network T times with dropout
                at the embedding layer; timed on --naive-passes passes and
                scaled to T (reported as extrapolated)
  plq           forward with autograd to the pixels, T heads without grad,
                the card's regression mode, one autograd.grad to the 8-bit
                pixels, the P map
Precisions: fp32 (TF32 off for cuDNN and cuBLAS), tf32 (TF32 on), bf16 and
fp16 (torch.autocast). cudnn.benchmark is on (autotuned convolutions: the
strongest eager configuration for fixed shapes; --no-cudnn-benchmark turns
it off); the warm-up calls absorb the tuning.

--dry-run: CPU, batch 2, 1 warm-up, 1 iteration; fp32 and bf16 (CPU
autocast) run, tf32 and fp16 are reported as refused. Works with Debian's
torch 1.13 (/usr/bin/python3) and with torch 2.x.

Usage: peer_torch_gpu.py --model M.onnx [--card C.json] [--name LABEL]
         [--device cuda|cpu] [--precisions fp32,tf32,bf16,fp16]
         [--tasks embed,serfiq,serfiq_naive,plq] [--batch 256] [--T 100]
         [--p 0.5] [--warmup 2] [--iters 10] [--max-seconds 5]
         [--naive-passes 3] [--deadline UNIX_SECONDS] [--dry-run]
"""
import argparse
import contextlib
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
sys.path.insert(0, os.path.join(ROOT, "models"))
import peer_torch_quality as ptq  # noqa: E402

TASKS = ["embed", "serfiq", "serfiq_naive", "plq"]
PRECISIONS = ["fp32", "tf32", "bf16", "fp16"]


def emit(obj):
    print(json.dumps(obj), flush=True)


def set_tf32(on):
    """TF32 for cuDNN convolutions and cuBLAS matmuls (the new fp32_precision
    API of torch >= 2.9 where it exists, else the allow_tf32 flags)."""
    b = torch.backends
    try:
        if hasattr(b.cuda.matmul, "fp32_precision") and hasattr(b.cudnn, "conv"):
            mode = "tf32" if on else "ieee"
            b.cuda.matmul.fp32_precision = mode
            b.cudnn.conv.fp32_precision = mode
            if hasattr(b.cudnn, "rnn"):
                b.cudnn.rnn.fp32_precision = mode
            return "fp32_precision=%s" % mode
    except Exception:  # noqa: BLE001 - fall back to the legacy flags
        pass
    b.cuda.matmul.allow_tf32 = on
    b.cudnn.allow_tf32 = on
    return "allow_tf32=%s" % on


def cudnn_version():
    """cuDNN as loaded by torch, "9.14.0" (cuDNN 9 encodes major*10000+minor*100+patch)."""
    try:
        v = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    except Exception:  # noqa: BLE001
        v = None
    if not v:
        return "n/a"
    return "%d.%d.%d" % (v // 10000, v % 10000 // 100, v % 100) if v >= 90000 else str(v)


def autocast_ctx(device, precision):
    if precision == "bf16":
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type=device, dtype=torch.float16)
    return contextlib.nullcontext()


def refusal(device, precision):
    """Why a precision is not run here ('' when it is)."""
    if device == "cpu" and precision in ("tf32", "fp16"):
        return "%s is not run on the CPU (dry run: fp32 and bf16 autocast only)" % precision
    if device == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bf16"
    return ""


class Peer:
    def __init__(self, args, device):
        self.args, self.device = args, device
        card_path = args.card or os.path.splitext(args.model)[0] + ".card.json"
        self.card, self.cal = ptq.load_card(card_path)
        if not self.card.get("embedding_layer"):
            import export_iresnet
            self.card["embedding_layer"] = export_iresnet.find_embedding_layer(args.model)
        self.net = ptq.OnnxNet(args.model, self.card["embedding_layer"])
        inner = self.net.net
        inner.consts = {k: v.to(device) for k, v in inner.consts.items()}
        inp = self.card["input"]
        self.size = inp["height"], inp["width"]
        self.mean = torch.tensor(inp["mean"], dtype=torch.float32, device=device)
        self.scale = torch.tensor(inp["scale"], dtype=torch.float32, device=device)
        self.bgr = inp["order"] == "BGR"
        g = torch.Generator().manual_seed(0)
        # Host pixels (never zeros), as xfiq receives them.
        self.px_host = torch.randint(0, 256, (args.batch, self.size[0], self.size[1], 3), generator=g,
                                     dtype=torch.uint8)
        with torch.no_grad():
            v = self.net.trunk(self.preprocess(self.pixels()[:1]))
        self.value_numel = v[0].numel()

    def pixels(self):
        return self.px_host.to(self.device).float()

    def preprocess(self, px):
        x = px[..., [2, 1, 0]] if self.bgr else px
        return ((x - self.mean) * self.scale).permute(0, 3, 1, 2)

    def sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    # ---- tasks: each returns host tensors (the results a user gets) --------
    def embed(self):
        with torch.no_grad():
            return self.net.head(self.net.trunk(self.preprocess(self.pixels()))).float().cpu()

    def scores(self, e):
        return ptq.serfiq_scores(e.float(), self.cal["serfiq_alpha"], self.cal["serfiq_r"])

    def serfiq(self):
        a = self.args
        with torch.no_grad():
            v = self.net.trunk(self.preprocess(self.pixels()))
            q, q_raw = self.scores(ptq.heads(self.net, v, a.T, a.p))
            return q.cpu(), q_raw.cpu()

    def serfiq_naive(self, passes):
        """passes of the T whole-network passes (the caller scales the time)."""
        a = self.args
        with torch.no_grad():
            x = self.preprocess(self.pixels())
            es = []
            for _ in range(passes):
                mask = (torch.rand(x.shape[0], self.value_numel, device=self.device) >= a.p).float() / (1.0 - a.p)
                es.append(F.normalize(self.net.naive(x, mask).float(), dim=1))
            e = torch.stack(es, 1)
            q, q_raw = self.scores(e) if passes > 1 else (e[:, 0, 0], e[:, 0, 0])
            return q.cpu(), q_raw.cpu()

    def plq(self):
        a, cal = self.args, self.cal
        pg = self.pixels().requires_grad_(True)
        v = self.net.trunk(self.preprocess(pg))
        z = self.net.head(v).float()
        with torch.no_grad():
            q, q_raw = self.scores(ptq.heads(self.net, v.detach(), a.T, a.p))
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
        (g,) = torch.autograd.grad(qhat.sum(), pg)
        m = g.float().abs().mean(3)
        P = 1.0 - 1.0 / (1.0 + cal["plq_a"] * m ** cal["plq_b"])
        return P.cpu(), q_raw.cpu()


def check(task, out):
    """'' when the outputs look like results, else the reason."""
    t = out[0] if isinstance(out, tuple) else out
    if not bool(torch.isfinite(t).all()):
        return "non-finite output"
    if task == "embed" and not bool((t.norm(dim=1) > 0).all()):
        return "zero embedding"
    return ""


def run_config(peer, task, precision, deadline):
    a, dev = peer.args, peer.device
    base = {"peer": "pytorch", "kind": "result", "model": a.name or os.path.basename(a.model), "task": task,
            "precision": precision, "backend": dev, "batch": a.batch, "T": 0 if task == "embed" else a.T,
            "version": torch.__version__}
    why = refusal(dev, precision)
    if why:
        return dict(base, status="refused", message=why)
    if deadline and time.time() > deadline:
        return dict(base, status="skipped", message="out of time (the script's benchmark budget)")
    tf32 = set_tf32(precision == "tf32") if dev == "cuda" else "n/a"
    passes = min(a.naive_passes, a.T)
    fn = {"embed": peer.embed, "serfiq": peer.serfiq, "plq": peer.plq,
          "serfiq_naive": lambda: peer.serfiq_naive(passes)}[task]
    try:
        with autocast_ctx(dev, precision):
            t0 = time.perf_counter()
            for i in range(max(1, a.warmup)):
                out = fn()
                peer.sync()
                if i == 0:
                    first = time.perf_counter() - t0
            times = []
            start = time.perf_counter()
            for i in range(a.iters):
                if i >= 3 and time.perf_counter() - start > a.max_seconds:
                    break
                peer.sync()
                t0 = time.perf_counter()
                out = fn()
                peer.sync()
                times.append(time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - reported, the other configurations go on
        if dev == "cuda":
            torch.cuda.empty_cache()
        return dict(base, status="failed", message="%s: %s" % (type(exc).__name__, str(exc)[:300]))
    bad = check(task, out)
    if bad:
        return dict(base, status="failed", message=bad)
    times.sort()
    med = times[len(times) // 2]  # upper median, as bench_gpu
    res = dict(base, status="ok", message="", iters=len(times), first_call_s=round(first, 3), tf32=tf32)
    if task == "serfiq_naive":
        med *= a.T / passes
        res["extrapolated_from_passes"] = passes
    res["img_per_s"] = round(a.batch / med, 2)
    res["ms_per_iter_median"] = round(1e3 * med, 3)
    if task in ("serfiq", "plq"):
        res["q_raw_mean"] = round(float(out[1].mean()), 4)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch eager GPU peer of bench_gpu.")
    ap.add_argument("--model", required=True)
    ap.add_argument("--card")
    ap.add_argument("--name")
    ap.add_argument("--device", choices=["cuda", "cpu"])
    ap.add_argument("--precisions", default=",".join(PRECISIONS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--batch", type=int)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--iters", type=int)
    ap.add_argument("--max-seconds", type=float)
    ap.add_argument("--naive-passes", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=0)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument("--no-cudnn-benchmark", action="store_true")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    dflt = dict(device="cpu", batch=2, warmup=1, iters=1, max_seconds=2.0) if a.dry_run else \
        dict(device="cuda", batch=256, warmup=2, iters=10, max_seconds=5.0)
    for k, v in dflt.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    precisions = a.precisions.split(",")
    tasks = a.tasks.split(",")
    bad = [p for p in precisions if p not in PRECISIONS] + [t for t in tasks if t not in TASKS]
    if bad or min(a.batch, a.iters, a.naive_passes) < 1 or a.warmup < 0 or a.T < 2:
        ap.error("bad --precisions/--tasks entries %s or sizes" % bad)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    info = {"peer": "pytorch", "kind": "versions", "torch": torch.__version__, "device": a.device,
            "cuda": torch.version.cuda or "n/a",
            "cudnn": cudnn_version()}
    def fail_all(message):
        """Every configuration failed for one reason: one line each, so the table says why."""
        for prec in precisions:
            for task in tasks:
                emit({"peer": "pytorch", "kind": "result", "model": a.name or os.path.basename(a.model),
                      "task": task, "precision": prec, "backend": a.device, "batch": a.batch,
                      "T": 0 if task == "embed" else a.T, "version": torch.__version__, "status": "failed",
                      "message": message})
        return 1

    if a.device == "cuda":
        if not torch.cuda.is_available():
            emit(info)
            return fail_all("torch.cuda.is_available() is False (torch %s, CUDA %s)" % (torch.__version__,
                                                                                      torch.version.cuda))
        torch.backends.cudnn.benchmark = not a.no_cudnn_benchmark
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cudnn_benchmark"] = torch.backends.cudnn.benchmark
    emit(info)
    try:
        peer = Peer(a, a.device)
    except Exception as exc:  # noqa: BLE001
        return fail_all("loading the model: %s: %s" % (type(exc).__name__, str(exc)[:300]))
    failed = 0
    for prec in precisions:
        for task in tasks:
            r = run_config(peer, task, prec, a.deadline)
            failed |= r["status"] == "failed"
            emit(r)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
