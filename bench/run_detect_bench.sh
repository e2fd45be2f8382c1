#!/bin/bash
# --detect's speed: detection + landmarks + alignment of one 250x250 photo
# (an LFW face re-cropped off centre, as tests/cli/detect_offcentre.py does)
# with xfiq (bench_detect) against ONNX Runtime (npm onnxruntime-node) on the
# same two networks, in the same run, alternating 3 rounds per thread count;
# prints the JSON lines and, per thread count, the ratio of the medians.
# Usage: bench/run_detect_bench.sh [BUILD_DIR] [THREADS...] (default: 1 2)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}; shift || true; THREADS=${*:-1 2}
CACHE=$ROOT/models/.cache; PEERS=$ROOT/bench/peers
DATA=${XFIQ_DATA_DIR:-$ROOT/../shared/data}
die() { echo "run_detect_bench.sh: $*" >&2; exit 1; }
[ -x "$BUILD/bench/bench_detect" ] || die "build bench_detect first (cmake --build $BUILD --target bench_detect)"
[ -f "$CACHE/fr_detect.onnx" ] || "$ROOT/models/fetch_default.sh" "$CACHE" >&2 || die "cannot fetch the models"
[ -d "$PEERS/node_modules/onnxruntime-node" ] || (cd "$PEERS" && npm install --ignore-scripts --silent) \
  || die "cannot install onnxruntime-node"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/p"
cp "$DATA/lfw-folds12/aligned_112x112/Abdullah_Gul/Abdullah_Gul_0001.jpg" "$tmp/src/p/" || die "no LFW face in $DATA"
/usr/bin/python3 "$ROOT/tests/cli/detect_offcentre.py" "$tmp/src" "$tmp/out" > /dev/null
photo=$tmp/out/p/Abdullah_Gul_0001.jpg
for T in $THREADS; do
  : > "$tmp/x"; : > "$tmp/o"
  for r in 1 2 3; do
    nice "$BUILD/bench/bench_detect" "$CACHE/fr_detect.onnx" "$CACHE/fr_landmark.onnx" "$photo" --threads "$T" | tee -a "$tmp/x"
    nice node "$PEERS/peer_ort_detect.mjs" --detect "$CACHE/fr_detect.onnx" --landmark "$CACHE/fr_landmark.onnx" \
      --threads "$T" | tee -a "$tmp/o"
  done
  /usr/bin/python3 - "$tmp/x" "$tmp/o" "$T" <<'PY'
import json, statistics, sys
x = [json.loads(l)["img_per_s_median"] for l in open(sys.argv[1])]
o = [json.loads(l)["img_per_s_median"] for l in open(sys.argv[2])]
mx, mo = statistics.median(x), statistics.median(o)
print("%s thread(s), detect + landmarks + alignment of a 250x250 photo: xfiq %.1f images/s (whole path), "
      "ONNX Runtime %.1f images/s (the two networks only); xfiq / ONNX Runtime = %.2f" % (sys.argv[3], mx, mo, mx / mo))
PY
done
