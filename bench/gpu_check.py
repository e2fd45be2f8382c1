#!/usr/bin/env python3
"""Helpers of bench/gpu_check.sh (standard library only, except export-iresnet
and the FLOP count, which need torch / onnx). Subcommands:

  bundle  --build-dir B --src S --dest D
      Assembles the bundle carried to a GPU machine: every test with ctest
      label gpu (found with `ctest --show-only=json-v1`, not hard-coded), their
      fixtures, test_elem, bench_cuda, bench_gpu, the xfiq CLI, the non-CUDA
      shared libraries they load, the default model with its card and the
      sample faces; writes D/gpu_tests.json (the tests with their paths made
      relative: @BUNDLE@, @SRC@, @PYTHON@) and D/MANIFEST.txt.
  tests   --bundle D --src S --log FILE --budget SECONDS [--dry-run]
      Runs the bundle's GPU tests. Exit 77 (skipped) is a failure on a GPU
      machine and accepted in a dry run.
  export-iresnet --job 100:X.onnx [--job 50:Y.onnx] [--seed 0] [--layout magface] [--direct]
      models/export_iresnet.py with the TorchScript exporter (torch >= 2.9
      defaults to the dynamo exporter, which needs onnxscript); falls back to
      writing the ONNX graph directly from the module's weights.
  legacy-run SCRIPT ARGS...
      Runs a fixture script with the TorchScript exporter as the default.
  table   --jsonl F --meta META.json --out-md F [--append RESULTS.md]
      The results table (xfiq beside PyTorch, FLOP and bytes per image,
      fraction of the tensor-core limit, targets), printed and written.
  table-selftest --model TINY.onnx --work DIR
      The table on synthetic H100 rows (run by the dry run).
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Libraries the GPU machine has itself (glibc, the compiler runtime, CUDA).
SYSTEM_LIBS = re.compile(r"^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|"
                         r"libgcc_s|libstdc\+\+|libcuda|libcudart|libcublas|libcudnn|libnv)")
# Larger fixtures are regenerated on the GPU machine (XFIQ_BUNDLE_FIXTURE_LIMIT_MIB: tests of this path).
FIXTURE_CARRY_LIMIT = int(os.environ.get("XFIQ_BUNDLE_FIXTURE_LIMIT_MIB", "16")) << 20


def log(*a):
    print(*a, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


# --------------------------------------------------------------- bundle
def ctest_json(build_dir, label=None):
    cmd = ["ctest", "--show-only=json-v1"] + (["-L", label] if label else [])
    out = subprocess.run(cmd, cwd=build_dir, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def props(test):
    return {p["name"]: p["value"] for p in test.get("properties", [])}


def listprop(p, name):
    """A ctest property as a list (json-v1 gives lists or ';'-joined strings)."""
    v = p.get(name, [])
    if isinstance(v, list):
        return [str(x) for x in v if str(x)]
    return [x for x in str(v).split(";") if x]


class Bundler:
    def __init__(self, build, src, dest, level=6):
        self.level = level  # gzip level of lib.tar.gz (1: a dry run's quick bundle)
        self.build = os.path.realpath(build)
        self.src = os.path.realpath(src)
        self.dest = dest
        self.bins = {}
        cache = open(os.path.join(self.build, "CMakeCache.txt")).read()
        m = re.search(r"^XFIQ_PYTHON:\w+=(.*)$", cache, re.M)
        self.python = m.group(1).strip() if m else "/usr/bin/python3"
        self.cache = cache

    def add_bin(self, path):
        name = os.path.basename(path)
        if name in self.bins and self.bins[name] != path:
            raise SystemExit("bundle: two executables named %s (%s, %s)" % (name, self.bins[name], path))
        if name not in self.bins:
            shutil.copy2(path, os.path.join(self.dest, "bin", name))
            self.bins[name] = path
        return "@BUNDLE@/bin/" + name

    def rewrite(self, s):
        """A path of this machine as one that holds on the GPU machine."""
        if s == self.python:
            return "@PYTHON@"
        real = os.path.realpath(s) if s.startswith("/") else s
        fx = os.path.join(self.build, "fixtures")
        if real == fx or real.startswith(fx + "/"):
            return "@BUNDLE@/fixtures" + real[len(fx):]
        if real.startswith(self.build + "/") and os.path.isfile(real) and os.access(real, os.X_OK):
            return self.add_bin(real)
        if s.startswith(self.src + "/") or s == self.src:
            return "@SRC@" + s[len(self.src):]
        if real.startswith(self.src + "/") and not real.startswith(self.build + "/"):
            return "@SRC@" + real[len(self.src):]
        if real.startswith(self.build + "/"):
            log("bundle: warning: %s is in the build folder and is not carried" % s)
        return s

    def rewrite_cwd(self, d):
        """Working folders in the build folder become a scratch folder there."""
        if not d:
            return ""
        real = os.path.realpath(d)
        return "@WORK@" if real == self.build or real.startswith(self.build + "/") else self.rewrite(d)

    def rewrite_env(self, item):
        k, _, v = item.partition("=")
        return k + "=" + ";".join(self.rewrite(x) for x in v.split(";")) if ";" in v else k + "=" + self.rewrite(v)

    def run(self):
        dest = self.dest
        if os.path.exists(dest):
            shutil.rmtree(dest)
        self.libs = []
        for d in ("bin", "lib", "models/samples", "fixtures"):
            os.makedirs(os.path.join(dest, d))
        alltests = ctest_json(self.build)["tests"]
        gpu = ctest_json(self.build, "gpu")["tests"]
        setups = {}
        for t in alltests:
            for fx in listprop(props(t), "FIXTURES_SETUP"):
                setups.setdefault(fx, []).append(t)
        needed = {"golden"}  # the small test models travel in any case
        manifest = {"tests": [], "regenerate": [], "python": self.python}
        for t in gpu:
            p = props(t)
            needed.update(listprop(p, "FIXTURES_REQUIRED"))
            cmd = t.get("command") or []
            if not cmd:
                raise SystemExit("bundle: gpu test %s has no command in ctest: is its executable built?" % t["name"])
            exe = os.path.realpath(cmd[0])
            if exe.startswith(self.build + "/") and not os.path.isfile(exe):
                raise SystemExit("bundle: gpu test %s: %s is not built" % (t["name"], cmd[0]))
            env = p.get("ENVIRONMENT", [])
            env = env if isinstance(env, list) else [env]
            manifest["tests"].append({
                "name": t["name"],
                "command": [self.rewrite(c) for c in cmd],
                "env": [self.rewrite_env(e) for e in env],
                "timeout": float(p.get("TIMEOUT", 300) or 300),
                "skip_code": int(p.get("SKIP_RETURN_CODE", 77) or 77),
                "cwd": self.rewrite_cwd(p.get("WORKING_DIRECTORY", "")),
                "labels": listprop(p, "LABELS"),
            })
        if not manifest["tests"]:
            log("bundle: warning: ctest lists no test with label gpu in %s" % self.build)
        # Fixtures: made here (ctest runs the setup test), carried when small.
        for fx in sorted(needed):
            if fx not in setups:
                log("bundle: warning: no ctest test sets up fixture %s" % fx)
            for t in setups.get(fx, []):
                outdirs = [c for c in t["command"] if c.startswith(os.path.join(self.build, "fixtures"))]
                if not outdirs:
                    log("bundle: warning: fixture %s: the command of %s names no folder under fixtures/: "
                        "not carried" % (fx, t["name"]))
                if not all(os.path.isdir(d) and os.listdir(d) for d in outdirs):
                    log("bundle: making fixture %s (ctest -R ^%s$)" % (fx, t["name"]))
                    r = subprocess.run(["ctest", "-R", "^%s$" % t["name"], "--output-on-failure"], cwd=self.build,
                                       capture_output=True, text=True)
                    if r.returncode:
                        raise SystemExit("bundle: fixture %s failed:\n%s" % (t["name"], r.stdout[-3000:]))
                for d in outdirs:
                    if dir_size(d) <= FIXTURE_CARRY_LIMIT:
                        shutil.copytree(d, os.path.join(dest, "fixtures", os.path.relpath(d, os.path.join(
                            self.build, "fixtures"))))
                    else:
                        log("bundle: fixture %s (%.0f MiB) is regenerated on the GPU machine" %
                            (d, dir_size(d) / 2 ** 20))
                        manifest["regenerate"].append({"name": t["name"],
                                                       "command": [self.rewrite(c) for c in t["command"]]})
        for exe in ("xfiq", "tests/test_elem", "bench/bench_cuda", "bench/bench_gpu"):
            path = os.path.join(self.build, exe)
            if not os.path.isfile(path):
                raise SystemExit("bundle: %s is not built" % path)
            self.add_bin(path)
        self.copy_libs()
        cache_dir = os.path.join(self.src, "models", ".cache")
        for f in ("fr_feature.onnx", "fr_feature.card.json"):
            p = os.path.join(cache_dir, f)
            if not os.path.isfile(p):
                raise SystemExit("bundle: %s is missing (run models/fetch_default.sh)" % p)
            shutil.copy2(p, os.path.join(dest, "models", f))
        for f in ("astronaut.png", "grace_hopper.jpg"):
            p = os.path.join(cache_dir, "samples", f)
            if not os.path.isfile(p):
                raise SystemExit("bundle: %s is missing (run models/fetch_samples.sh)" % p)
            shutil.copy2(p, os.path.join(dest, "models", "samples", f))
        shutil.copy2(os.path.join(self.src, "models", "samples.landmarks.txt"),
                     os.path.join(dest, "models", "samples", "samples.landmarks.txt"))
        with open(os.path.join(dest, "gpu_tests.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        self.write_manifest(manifest)
        size = dir_size(dest)
        log("bundle: %s: %d GPU test(s) (%s), %d file(s), %.1f MiB" % (
            dest, len(manifest["tests"]), ", ".join(t["name"] for t in manifest["tests"]) or "none",
            sum(len(f) for _, _, f in os.walk(dest)), size / 2 ** 20))
        return 0

    def copy_libs(self):
        libs = {}
        for b in sorted(os.listdir(os.path.join(self.dest, "bin"))):
            out = subprocess.run(["ldd", os.path.join(self.dest, "bin", b)], capture_output=True, text=True).stdout
            for line in out.splitlines():
                m = re.match(r"\s*(\S+) => (/\S+)", line)
                if m and not SYSTEM_LIBS.match(m.group(1)):
                    libs[m.group(1)] = m.group(2)
                elif "not found" in line:
                    raise SystemExit("bundle: %s: %s" % (b, line.strip()))
        # Compressed (OpenBLAS alone is 36 MB): gpu_check.sh unpacks it there.
        import tarfile
        tmp = os.path.join(self.dest, "lib")
        for soname, path in sorted(libs.items()):
            shutil.copy2(os.path.realpath(path), os.path.join(tmp, soname))
        with tarfile.open(os.path.join(self.dest, "lib.tar.gz"), "w:gz", compresslevel=self.level) as tf:
            tf.add(tmp, arcname="lib")
        self.libs = ["%s (%d)" % (n, os.path.getsize(os.path.join(tmp, n))) for n in sorted(libs)]
        shutil.rmtree(tmp)

    def write_manifest(self, manifest):
        def flag(name):
            m = re.search(r"^%s:\w+=(.*)$" % name, self.cache, re.M)
            return m.group(1) if m else "?"
        try:
            commit = subprocess.run(["git", "-C", self.src, "describe", "--always", "--dirty"], capture_output=True,
                                    text=True).stdout.strip()
        except OSError:
            commit = "?"
        arch = "?"
        flags = os.path.join(self.build, "cuda", "CMakeFiles", "xfiq_cuda.dir", "flags.make")
        if os.path.isfile(flags):
            found = re.findall(r"--generate-code=(\S+)", open(flags).read())
            arch = " ".join(sorted(set(found))) or "?"
        glibc = set()
        for b in glob.glob(os.path.join(self.dest, "bin", "*")):
            out = subprocess.run(["objdump", "-T", b], capture_output=True, text=True).stdout
            glibc.update(re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", out))
        newest = max(glibc, key=lambda v: [int(x) for x in v.split(".")]) if glibc else "?"
        lines = ["xfiq GPU bundle (bench/gpu_check.sh --prepare)",
                 "made: %s on %s" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.uname().nodename),
                 "source: %s" % commit,
                 "build: %s CMAKE_BUILD_TYPE=%s XFIQ_NATIVE=%s XFIQ_CUDA=%s device code %s" % (
                     self.build, flag("CMAKE_BUILD_TYPE"), flag("XFIQ_NATIVE"), flag("XFIQ_CUDA"), arch),
                 "needs: glibc >= %s (executables); CUDA runtime 13, cuBLAS 13, cuDNN 9 from the GPU machine" % newest,
                 "gpu tests: %s" % ", ".join(t["name"] for t in manifest["tests"]),
                 "regenerated there: %s" % (", ".join(r["name"] for r in manifest["regenerate"]) or "none"),
                 "lib.tar.gz: %s" % ", ".join(self.libs),
                 "", "size  sha256  path"]
        for root, _, files in sorted(os.walk(self.dest)):
            for f in sorted(files):
                p = os.path.join(root, f)
                if f != "MANIFEST.txt":
                    lines.append("%9d  %s  %s" % (os.path.getsize(p), sha256(p)[:16], os.path.relpath(p, self.dest)))
        with open(os.path.join(self.dest, "MANIFEST.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- tests
def subst(s, bundle, src, python, work=""):
    return s.replace("@BUNDLE@", bundle).replace("@SRC@", src).replace("@PYTHON@", python).replace("@WORK@", work)


def run_tests(a):
    bundle, src = os.path.realpath(a.bundle), os.path.realpath(a.src)
    man = json.load(open(os.path.join(bundle, "gpu_tests.json")))
    python = a.python or "python3"
    work = os.path.realpath(a.work or os.path.dirname(os.path.realpath(a.log)))
    os.makedirs(work, exist_ok=True)
    deadline = time.time() + a.budget
    failures = 0
    out = open(a.log, "a")

    def run(name, cmd, env, cwd, timeout):
        left = deadline - time.time()
        if left < 5:
            return "NOT RUN (out of time)", None
        t0 = time.time()
        out.write("\n===== %s: %s\n" % (name, " ".join(cmd)))
        out.flush()
        try:
            r = subprocess.run(cmd, env=env, cwd=cwd or None, stdout=out, stderr=subprocess.STDOUT,
                               timeout=min(timeout, left))
            rc = r.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        except OSError as exc:
            out.write("cannot run: %s\n" % exc)
            rc = "cannot run"
        out.write("===== %s: exit %s after %.1f s\n" % (name, rc, time.time() - t0))
        out.flush()
        return rc, time.time() - t0

    for r in man.get("regenerate", []):
        cmd = [subst(c, bundle, src, python, work) for c in r["command"]]
        if len(cmd) > 1 and cmd[1].endswith(".py"):  # with the TorchScript ONNX exporter
            cmd = [cmd[0], os.path.abspath(__file__), "legacy-run", cmd[1]] + cmd[2:]
        rc, _ = run("regenerate " + r["name"], cmd, os.environ.copy(), None, a.budget / 2)
        log("  fixture %-24s %s" % (r["name"], "made" if rc == 0 else "FAILED (%s)" % rc))
    for t in man["tests"]:
        env = os.environ.copy()
        if a.ld_library_path:  # the bundle's libraries for the test binaries only
            env["LD_LIBRARY_PATH"] = a.ld_library_path
        for e in t["env"]:
            k, _, v = subst(e, bundle, src, python, work).partition("=")
            env[k] = v
        cmd = [subst(c, bundle, src, python, work) for c in t["command"]]
        rc, dt = run(t["name"], cmd, env, subst(t["cwd"], bundle, src, python, work), t["timeout"])
        if dt is None:
            verdict = "NOT RUN (out of time): FAILURE" if not a.dry_run else "NOT RUN (out of time)"
            failures += 1
        elif rc == 0:
            verdict = "passed"
        elif rc == t["skip_code"]:
            verdict = "SKIPPED (accepted: dry run)" if a.dry_run else "SKIPPED on a GPU machine: FAILURE"
            failures += not a.dry_run
        else:
            verdict = "FAILED (%s)" % rc
            failures += 1
        reason = ""
        if dt is not None and rc != 0:
            reason = last_line(a.log)
        log("  %-28s %-34s %s%s" % (t["name"], verdict, "%.1f s" % dt if dt is not None else "",
                                   ("  | " + reason) if reason else ""))
    out.close()
    return 1 if failures else 0


def last_line(path):
    """The last output line of the test that just ran (its reason)."""
    with open(path, errors="replace") as f:
        lines = [x.strip() for x in f.read().splitlines()[-40:]]
    body = [x for x in lines if x and not x.startswith("=====")]
    return body[-1][:160] if body else ""


# ---------------------------------------------------------- iResNet export
def legacy_onnx_export():
    """torch >= 2.9 exports with dynamo by default, which needs onnxscript (the
    GPU machine may lack it): default to the TorchScript exporter instead."""
    import inspect

    import torch
    orig = torch.onnx.export
    if "dynamo" in inspect.signature(orig).parameters:
        def legacy(*args, **kw):
            kw.setdefault("dynamo", False)
            return orig(*args, **kw)
        torch.onnx.export = legacy
    return orig


def legacy_run(a):
    """Runs a fixture script (tests/ref/*.py) with legacy_onnx_export."""
    import runpy
    try:
        legacy_onnx_export()
    except ImportError:
        pass
    sys.argv = [a.script] + a.args
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.script)))
    runpy.run_path(a.script, run_name="__main__")
    return 0


def export_iresnet(a):
    """Each --job DEPTH:OUT in turn, in one process (torch is imported once)."""
    sys.path.insert(0, os.path.join(HERE, "..", "models"))
    import export_iresnet as ei

    legacy_onnx_export()
    rc = 0
    for job in a.job:
        depth, _, out = job.partition(":")
        t0 = time.time()
        argv = ["--depth", depth, "--layout", a.layout, "--out", out, "--seed", str(a.seed)]
        try:
            if a.direct:
                raise RuntimeError("--direct asked for the direct writer")
            ei.main(argv)
            log("export-iresnet: %s: models/export_iresnet.py %s: %.1f s" % (os.path.basename(out), " ".join(argv),
                                                                          time.time() - t0))
            continue
        except Exception as exc:  # noqa: BLE001 - the direct writer below is the fallback
            log("export-iresnet: %s: models/export_iresnet.py failed (%s: %s); writing the ONNX graph directly" %
                (os.path.basename(out), type(exc).__name__, str(exc)[:300]))
        try:
            model = ei.randomize(ei.build_iresnet(depth, a.layout), a.seed)
            write_iresnet_onnx(model, out)
            name = "iresnet%s-%s" % ("-tiny" if depth == "tiny" else depth, a.layout)
            ei.write_card(out, a.layout, name, model.input_size,
                          "iResNet-%s %s layout, random weights (seed %d), models/export_iresnet.py module written "
                          "by bench/gpu_check.py" % (depth, a.layout, a.seed))
            log("export-iresnet: %s: written directly in %.1f s" % (os.path.basename(out), time.time() - t0))
        except Exception as exc:  # noqa: BLE001
            log("export-iresnet: %s: FAILED (%s: %s)" % (os.path.basename(out), type(exc).__name__, str(exc)[:300]))
            rc = 1
    return rc


def write_iresnet_onnx(model, out):
    """The iResNet module as an ONNX graph (opset 13, batch 1, every BN kept),
    without torch.onnx: Conv, BatchNormalization, PRelu, Add, Flatten, Gemm."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    count = [0]

    def init(name, t):
        inits.append(numpy_helper.from_array(t.detach().cpu().numpy().astype(np.float32), name))
        return name

    def fresh(p):
        count[0] += 1
        return "%s_%d" % (p, count[0])

    def conv(x, m, name):
        y = fresh(name)
        nodes.append(helper.make_node("Conv", [x, init(name + ".weight", m.weight)], [y], name=name,
                                      kernel_shape=list(m.kernel_size), strides=list(m.stride),
                                      pads=list(m.padding) * 2, dilations=[1, 1], group=1))
        return y

    def bn(x, m, name):
        y = fresh(name)
        ins = [init(name + "." + k, getattr(m, k)) for k in ("weight", "bias", "running_mean", "running_var")]
        nodes.append(helper.make_node("BatchNormalization", [x] + ins, [y], name=name, epsilon=m.eps))
        return y

    def prelu(x, m, name):
        y = fresh(name)
        nodes.append(helper.make_node("PRelu", [x, init(name + ".weight", m.weight.reshape(-1, 1, 1))], [y],
                                      name=name))
        return y

    x = prelu(bn(conv("input", model.conv1, "conv1"), model.bn1, "bn1"), model.prelu, "prelu")
    for li in range(1, 5):
        for bi, blk in enumerate(getattr(model, "layer%d" % li)):
            p = "layer%d.%d" % (li, bi)
            y = bn(x, blk.bn1, p + ".bn1")
            y = conv(y, blk.conv1, p + ".conv1")
            y = prelu(bn(y, blk.bn2, p + ".bn2"), blk.prelu, p + ".prelu")
            y = bn(conv(y, blk.conv2, p + ".conv2"), blk.bn3, p + ".bn3")
            s = x if blk.downsample is None else bn(conv(x, blk.downsample[0], p + ".downsample.0"),
                                                    blk.downsample[1], p + ".downsample.1")
            z = fresh(p + ".add")
            nodes.append(helper.make_node("Add", [y, s], [z], name=p + ".add"))
            x = z
    x = bn(x, model.bn2, "bn2")
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", init("fc.weight", model.fc.weight), init("fc.bias", model.fc.bias)],
                                  ["fc_out"], name="fc", transB=1))
    f = model.features
    ins = [init("features." + k, getattr(f, k)) for k in ("weight", "bias", "running_mean", "running_var")]
    nodes.append(helper.make_node("BatchNormalization", ["fc_out"] + ins, ["output"], name="features",
                                  epsilon=f.eps))
    s = model.input_size
    graph = helper.make_graph(nodes, "iresnet",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, s, s])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                             [1, model.fc.out_features])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="bench/gpu_check.py")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, out + ".tmp")
    os.replace(out + ".tmp", out)


# ---------------------------------------------------------------- table
# Dense tensor-core limits, TFLOP/s (SPEC 9); fp32 is the CUDA-core limit.
LIMITS = [("H100 PCIe", {"fp16": 756, "bf16": 756, "tf32": 378, "fp32": 51}),
          ("H100", {"fp16": 989, "bf16": 989, "tf32": 495, "fp32": 67}),
          ("H200", {"fp16": 989, "bf16": 989, "tf32": 495, "fp32": 67})]
TARGETS = {"embed": 15000, "plq": 5000}  # iResNet-100, batch 256, bf16, H100


def head_macs(path, value):
    """Multiply-adds of the SER-FIQ head: the Gemm/MatMul/Conv nodes fed
    (directly or not) by the embedding-layer value (their maps are 1x1)."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path, load_external_data=False).graph
    dims = {i.name: list(i.dims) for i in g.initializer}
    reach, macs = {value}, 0
    for n in g.node:
        if not any(i in reach for i in n.input):
            continue
        reach.update(n.output)
        if n.op_type in ("Gemm", "MatMul", "Conv") and len(n.input) > 1 and n.input[1] in dims:
            p = 1
            for d in dims[n.input[1]]:
                p *= d
            macs += p
    del numpy_helper
    return macs


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "%.*g" % (digits, v)


def table(a):
    rows = [json.loads(x) for x in open(a.jsonl) if x.strip().startswith("{")]
    meta = json.load(open(a.meta))
    card = meta.get("card", "?")
    limits = next((l for k, l in LIMITS if k in card), None)
    versions = next((r for r in rows if r.get("peer") == "xfiq" and r.get("kind") == "versions"), {})
    tv = next((r for r in rows if r.get("peer") == "pytorch" and r.get("kind") == "versions"), {})
    models = {r["model"]: r for r in rows if r.get("kind") == "model"}
    heads = {}
    for name, mr in models.items():
        try:
            heads[name] = head_macs(mr["path"], mr["embedding_layer"])
        except Exception as exc:  # noqa: BLE001 - FLOP of the head then unknown
            log("table: head MACs of %s: %s" % (name, exc))
    res = {(r["peer"], r["model"], r["task"], r["precision"]): r for r in rows if r.get("kind") == "result"}
    cmp = {(r["model"], r["task"], r["precision"]): r for r in rows if r.get("kind") == "compare"}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cuda = "%s (driver %s)" % (versions.get("cuda_runtime", "n/a"), meta.get("cuda_driver", "n/a"))
    head = ["card", "driver", "CUDA", "cuDNN", "model", "task", "prec", "batch", "xfiq img/s", "PyTorch img/s",
            "xfiq/PyTorch", "PyTorch naive img/s", "GFLOP/img", "min MB/img", "% of limit", "target", "vs fp32"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = [m for m in meta.get("models", [])] or sorted(models)
    n_missed = 0
    for model in order:
        mr = models.get(model)
        for task in ("embed", "serfiq", "plq"):
            for prec in ("fp32", "tf32", "bf16", "fp16"):
                x = res.get(("xfiq", model, task, prec))
                p = res.get(("pytorch", model, task, prec))
                naive = res.get(("pytorch", model, "serfiq_naive", prec)) if task == "serfiq" else None
                if not x and not p:
                    continue

                def cell(r):
                    if not r:
                        return "not run"
                    if r["status"] == "ok":
                        return fmt(r["img_per_s"])
                    return "%s: %s" % (r["status"], r.get("message", "")[:70].replace("|", "/"))
                xv = x["img_per_s"] if x and x["status"] == "ok" else None
                pv = p["img_per_s"] if p and p["status"] == "ok" else None
                ratio = xv / pv if xv and pv else None
                macs = mr["macs_per_image"] if mr else None
                T = (x or p).get("T") or 100
                flop = None
                if macs:
                    h = heads.get(model)
                    fwd = 2.0 * macs
                    flop = fwd if task == "embed" else None
                    if task != "embed" and h is not None:
                        flop = fwd + T * 2.0 * h + (fwd if task == "plq" else 0.0)
                mb = None
                if mr:
                    w, hgt, c = mr["input"]
                    wbytes = mr["num_params"] * (2 if prec in ("bf16", "fp16") else 4) * (2 if task == "plq" else 1)
                    out = mr["embedding_dim"] * 4 + (w * hgt * 4 if task == "plq" else 0)
                    mb = (w * hgt * c + out + wbytes / float((x or p)["batch"])) / 1e6
                frac = xv * flop / (limits[prec] * 1e12) * 100 if xv and flop and limits else None
                target = ""
                if "100" in model and (x or p)["batch"] == 256 and not xv:
                    target = "n/a (xfiq %s)" % (x["status"] if x else "not run")
                    n_missed += prec == "bf16"
                elif "100" in model and (x or p)["batch"] == 256:
                    goals = []
                    if prec == "bf16" and task in TARGETS:
                        goals.append(("≥ %s" % "{:,}".format(TARGETS[task]), xv is not None and xv >= TARGETS[task]))
                    if prec == "bf16" and task == "serfiq":
                        e = res.get(("xfiq", model, "embed", prec))
                        ev = e["img_per_s"] if e and e["status"] == "ok" else None
                        goals.append(("≥ 0.8× embed", xv is not None and ev is not None and xv >= 0.8 * ev))
                    goals.append(("≥ 2× PyTorch", ratio is not None and ratio >= 2))
                    target = ", ".join("%s %s" % (g, "✓" if ok else "✗") for g, ok in goals)
                    n_missed += sum(not ok for _, ok in goals)
                chk = ""
                c = cmp.get((model, task, prec), {})
                for k, lab in (("min_cos_vs_fp32", "cos ≥ "), ("max_dq_raw_vs_fp32", "Δq_raw ≤ "),
                               ("mean_dP_vs_fp32", "mean ΔP ")):
                    if k in c:
                        chk += "%s%s%.3g" % (", " if chk else "", lab, c[k])
                cells = [card, meta.get("driver", "n/a"), cuda, versions.get("cudnn", "n/a"), model, task, prec,
                         str((x or p)["batch"]), cell(x), cell(p), "%.2f×" % ratio if ratio else "n/a",
                         cell(naive) if naive else "", fmt(flop / 1e9 if flop else None),
                         fmt(mb), "%.1f%%" % frac if frac is not None else "n/a", target, chk]
                lines.append("| " + " | ".join(cells) + " |")
    absent = [m for m in order if not any(k[1] == m for k in res)]
    notes = [] + (["Not benchmarked (export failed or out of time, see the summary): %s." % ", ".join(absent)]
         if absent else []) + [
        "GPU check %s: %s; driver %s; xfiq's CUDA runtime %s, cuDNN %s; PyTorch %s (CUDA %s, cuDNN %s%s). %s" % (
            when, card, meta.get("driver", "n/a"), versions.get("cuda_runtime", "n/a"), versions.get("cudnn", "n/a"),
            tv.get("torch", "n/a"), tv.get("cuda", "n/a"), tv.get("cudnn", "n/a"),
            ", cudnn.benchmark on" if tv.get("cudnn_benchmark") else "", meta.get("note", "")),
        "img/s = batch / median call (host pixels in, results in host memory, warm-up excluded); ratio = xfiq / "
        "PyTorch eager in the same run; PyTorch serfiq = once-then-T-heads, naive = whole network T times "
        "(extrapolated from a few passes); GFLOP/img: embed 2·MACs, SER-FIQ + T heads, PLQ + backward-data "
        "(= forward); min MB/img: pixels in + results out + weights once per batch (twice for PLQ); % of limit: "
        "xfiq's FLOP/s over the card's dense tensor-core limit of the precision (fp32: CUDA cores; SPEC 9); vs "
        "fp32: xfiq's outputs against its own fp32 run of the same faces (min cosine of the embeddings, max |Δ| raw SER-FIQ, mean |Δ| of the PLQ maps).",
    ]
    body = "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"
    title = "## GPU check %s (%s)%s\n\n" % (when, card, " — DRY RUN, not a measurement" if a.dry_run else "")
    with open(a.out_md, "w") as f:
        f.write(title + body)
    if a.append:
        with open(a.append, "a") as f:
            f.write("\n" + title + body)
    print(title + body, end="")
    if n_missed:
        print("targets missed: %d (see the target column)" % n_missed)
    return 0


def table_selftest(a):
    """The table on synthetic GPU rows (an H100, iResNet-100 at batch 256):
    the columns a CPU dry run cannot reach. The FLOP of the head come from the
    given ONNX file (any model whose embedding layer is /Flatten_output_0)."""
    os.makedirs(a.work, exist_ok=True)
    rows = [{"peer": "xfiq", "kind": "versions", "cuda_runtime": "13.0", "cudnn": "9.14.0"},
            {"peer": "pytorch", "kind": "versions", "torch": "2.11.0", "cuda": "13.0", "cudnn": "9.14.0"},
            {"peer": "xfiq", "kind": "model", "model": "iresnet100", "path": a.model,
             "embedding_layer": "/Flatten_output_0", "macs_per_image": 12.09e9, "num_params": 65.2e6,
             "embedding_dim": 512, "input": [112, 112, 3]}]
    for task, xv, pv in (("embed", 16000, 5000), ("serfiq", 12000, 4000), ("plq", 4000, 1500)):
        rows += [{"peer": "xfiq", "kind": "result", "model": "iresnet100", "task": task, "precision": "bf16",
                  "batch": 256, "T": 100, "status": "ok", "img_per_s": xv},
                 {"peer": "pytorch", "kind": "result", "model": "iresnet100", "task": task, "precision": "bf16",
                  "batch": 256, "T": 100, "status": "ok", "img_per_s": pv},
                 {"peer": "xfiq", "kind": "result", "model": "iresnet100", "task": task, "precision": "fp16",
                  "batch": 256, "T": 100, "status": "refused", "message": "fp16: not in this build | test"},
                 {"peer": "xfiq", "kind": "compare", "model": "iresnet100", "task": task, "precision": "bf16",
                  "min_cos_vs_fp32": 0.9991, "max_dq_raw_vs_fp32": 0.0012}]
    rows.append({"peer": "pytorch", "kind": "result", "model": "iresnet100", "task": "serfiq_naive",
                 "precision": "bf16", "batch": 256, "T": 100, "status": "ok", "img_per_s": 55.5})
    jl, meta, md = (os.path.join(a.work, f) for f in ("rows.jsonl", "meta.json", "table.md"))
    with open(jl, "w") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n")
    with open(meta, "w") as f:
        json.dump({"card": "NVIDIA H100 80GB HBM3", "driver": "580.65", "cuda_driver": "13.0",
                   "models": ["iresnet100"]}, f)
    table(argparse.Namespace(jsonl=jl, meta=meta, out_md=md, append=None, dry_run=False))
    text = open(md).read()
    want = ["| 16,000 | 5,000 | 3.20× |", "39.1%", "≥ 15,000 ✓, ≥ 2× PyTorch ✓", "≥ 0.8× embed ✗",
            "≥ 5,000 ✗", "n/a (xfiq refused)", "cos ≥ 0.999", "| 55.5 |", "refused: fp16: not in this build / test"]
    missing = [w for w in want if w not in text]
    body = [x for x in text.splitlines() if x.startswith("| NVIDIA")]
    if missing or len(body) != 6 or any(x.count("|") != 18 for x in body):
        print("table-selftest: FAILED: missing %s, %d rows, cells per row %s" % (
            missing, len(body), sorted({x.count("|") for x in body})))
        return 1
    print("table-selftest: ok")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle")
    b.add_argument("--build-dir", required=True)
    b.add_argument("--src", required=True)
    b.add_argument("--dest", required=True)
    b.add_argument("--fast", action="store_true", help="gzip level 1 (a dry run's throw-away bundle)")
    t = sub.add_parser("tests")
    t.add_argument("--bundle", required=True)
    t.add_argument("--src", required=True)
    t.add_argument("--log", required=True)
    t.add_argument("--budget", type=float, default=120)
    t.add_argument("--python")
    t.add_argument("--work", help="scratch folder for tests whose working folder was in the build folder")
    t.add_argument("--ld-library-path", default="", help="LD_LIBRARY_PATH of the test binaries")
    t.add_argument("--dry-run", action="store_true")
    e = sub.add_parser("export-iresnet")
    e.add_argument("--job", action="append", required=True, help="DEPTH:OUT.onnx (repeatable)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--layout", default="magface")
    e.add_argument("--direct", action="store_true", help="skip torch.onnx: write the graph directly")
    g = sub.add_parser("table")
    g.add_argument("--jsonl", required=True)
    g.add_argument("--meta", required=True)
    g.add_argument("--out-md", required=True)
    g.add_argument("--append")
    g.add_argument("--dry-run", action="store_true")
    lr = sub.add_parser("legacy-run")
    lr.add_argument("script")
    lr.add_argument("args", nargs=argparse.REMAINDER)
    st = sub.add_parser("table-selftest")
    st.add_argument("--model", required=True)
    st.add_argument("--work", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "legacy-run":
        return legacy_run(a)
    if a.cmd == "table-selftest":
        return table_selftest(a)
    if a.cmd == "bundle":
        return Bundler(a.build_dir, a.src, a.dest, 1 if a.fast else 6).run()
    if a.cmd == "tests":
        return run_tests(a)
    if a.cmd == "export-iresnet":
        return export_iresnet(a)
    return table(a)


if __name__ == "__main__":
    sys.exit(main())
