#!/usr/bin/env bash
# demo.sh - the README's main-job command: install what is missing, fetch the
# default real model and the sample faces, build, then the main job: align
# the sample faces (+ a grey bar over the eyes and a heavy blur of each), and
# compute SER-FIQ quality and PLQ maps for all of them with the default model.
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
"$build"/xfiq prepare --landmarks models/samples.landmarks.txt --variants -o "$out/aligned" models/.cache/samples
"$build"/xfiq plq -o "$out/plq" "$out/aligned"
echo
echo "SER-FIQ quality and mean PLQ (default model, calibrated card; $out/plq/plq.csv):"
/usr/bin/python3 - "$out/plq/plq.csv" <<'PY'
import csv, os, sys
for r in csv.DictReader(open(sys.argv[1])):
    name = os.path.basename(r["path"])
    if r["status"] != "ok":
        print(f"  {name:28s} failed: {r['message']}")
        continue
    print(f"  {name:28s} SER-FIQ {float(r['serfiq']):.3f} (raw {float(r['serfiq_raw']):.4f})  "
          f"mean PLQ {float(r['mean_plq']):.3f}  magnitude {float(r['magnitude']):.2f}")
PY
echo "maps and pictures: $out/plq/maps/ (e.g. $(ls "$out"/plq/maps/*_plq.png | head -1))"
