#!/usr/bin/env bash
# demo.sh - the README's main-job command: install what is missing, fetch the
# default real model and the sample faces, build, and run the main job on them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash models/fetch_default.sh
bash models/fetch_samples.sh
build=${XFIQ_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)"
out=${XFIQ_DEMO_OUT:-out/demo}
mkdir -p "$out"
"$build"/xfiq embed --landmarks models/samples.landmarks.txt -o "$out/embed" models/.cache/samples
/usr/bin/python3 - "$out/embed" <<'PY'
import csv, sys, numpy as np
d = sys.argv[1]
e = np.load(d + "/embeddings.npy"); rows = [r for r in csv.DictReader(open(d + "/files.csv")) if r["status"] == "ok"]
n = e / np.linalg.norm(e, axis=1, keepdims=True)
for r in rows: print(f"{r['path']}: magnitude {float(r['magnitude']):.3f}")
if len(rows) > 1: print("cosine similarity matrix:\n", np.round(n @ n.T, 3))
PY
