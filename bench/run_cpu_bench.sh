#!/bin/bash
# run_cpu_bench.sh - the CPU benchmark of issues 2 and 3 in one run: xfiq
# against PyTorch (Debian) and ONNX Runtime (npm onnxruntime-node) on the
# default model (fr_feature.onnx) and a random-weight iResNet-50, for embed,
# SER-FIQ and PLQ. Builds bench_models in Release if needed, fetches/exports
# the models into BUILD_DIR/bench-cache, runs every configuration with the
# same thread count, then prints a Markdown table of images/s (from the
# median iteration) and the ratios xfiq/peer, and writes it to OUT.md when
# given. Takes about 5-10 minutes on a 2-core machine. See bench/README.md.
#
# Usage: bench/run_cpu_bench.sh [OUT.md]
# Environment: BUILD_DIR (default <repo>/build-bench), THREADS (2),
#   OMP_WAIT_POLICY (unset: PASSIVE when the 1-minute load average is above
#   0.5 at the start, else ACTIVE; see bench/README.md), JOBS (2),
#   PYTHON (/usr/bin/python3), ROUNDS (2: each contender runs twice, in
#   A B C / C B A order; figures are the mean of its rounds), QUICK=1 (one iteration, no warm-up: checks
#   the script in about 3 minutes; the figures are not worth reporting).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-}
BUILD_DIR=${BUILD_DIR:-"$ROOT/build-bench"}
THREADS=${THREADS:-2}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1}; else ROUNDS=${ROUNDS:-2}; fi
JOBS=${JOBS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
# libgomp's active wait is the fastest on idle cores but collapses when other
# processes hold them: with no choice given, pick by the load at the start.
if [ -z "${OMP_WAIT_POLICY:-}" ]; then
  if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 0.5) }'; then
    OMP_WAIT_POLICY=PASSIVE
  else
    OMP_WAIT_POLICY=ACTIVE
  fi
fi
export OMP_WAIT_POLICY
CACHE="$BUILD_DIR/bench-cache"
PEERS="$ROOT/bench/peers"

die() { echo "run_cpu_bench.sh: error: $*" >&2; exit 1; }
note() { echo "run_cpu_bench.sh: $*" >&2; }

case "$THREADS" in ''|*[!0-9]*|0) die "THREADS must be a positive integer";; esac
case "$ROUNDS" in ''|*[!0-9]*|0) die "ROUNDS must be a positive integer";; esac
[ -x "$PYTHON" ] || die "$PYTHON not found (Debian python3 with python3-torch and python3-onnx)"
if [ -n "$OUT" ]; then
  outdir=$(dirname "$OUT")
  [ -d "$outdir" ] || die "folder of $OUT does not exist"
fi

# ---- 1. build (Release) -------------------------------------------------
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  note "configuring $BUILD_DIR (Release)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || die "cmake configure failed"
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
[ "$btype" = "Release" ] || die "$BUILD_DIR is a '$btype' build; use a Release build dir (BUILD_DIR=...)"
grep -q '^XFIQ_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" && die "$BUILD_DIR has sanitizers on"
note "building bench_models in $BUILD_DIR"
cmake --build "$BUILD_DIR" -j"$JOBS" --target bench_models >/dev/null || die "build failed"
BENCH="$BUILD_DIR/bench/bench_models"

# ---- 2. models ----------------------------------------------------------
mkdir -p "$CACHE"
if [ -f "$ROOT/models/.cache/fr_feature.onnx" ]; then
  # The usual place: its card there may carry the calibration (SPEC 4.1).
  MFN="$ROOT/models/.cache/fr_feature.onnx"
else
  "$ROOT/models/fetch_default.sh" "$CACHE" >&2 || die "cannot fetch the default model"
  MFN="$CACHE/fr_feature.onnx"
fi
R50="$CACHE/iresnet50.onnx"
if [ ! -f "$R50" ] || [ ! -f "$CACHE/iresnet50.card.json" ]; then
  note "exporting a random-weight iResNet-50 to $R50"
  nice "$PYTHON" "$ROOT/models/export_iresnet.py" --depth 50 --layout magface --out "$R50" >&2 \
    || die "iResNet-50 export failed"
fi
dyn() { # dyn IN OUT: dynamic-batch copy for ONNX Runtime
  if [ ! -f "$2" ] || [ "$1" -nt "$2" ]; then
    nice "$PYTHON" "$ROOT/models/onnx_dynamic_batch.py" "$1" "$2" >&2 || die "dynamic-batch copy of $1 failed"
  fi
}
MFN_DYN="$CACHE/fr_feature_dyn.onnx"
R50_DYN="$CACHE/iresnet50_dyn.onnx"
dyn "$MFN" "$MFN_DYN"
dyn "$R50" "$R50_DYN"

# ---- 3. ONNX Runtime peer -----------------------------------------------
HAVE_ORT=1
if ! command -v node >/dev/null 2>&1; then
  note "node not found: ONNX Runtime columns will be empty"; HAVE_ORT=0
elif [ ! -d "$PEERS/node_modules/onnxruntime-node" ]; then
  note "installing onnxruntime-node (npm install --ignore-scripts)"
  (cd "$PEERS" && npm install --ignore-scripts --silent >&2) || { note "npm install failed: no ONNX Runtime"; HAVE_ORT=0; }
fi

# ---- 4. runs ------------------------------------------------------------
RESULTS=$(mktemp "${TMPDIR:-/tmp}/xfiq-bench.XXXXXX")
trap 'rm -f "$RESULTS" "$RESULTS.err"' EXIT
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# run KEY CMD...: one contender; its JSON line goes to RESULTS tagged with KEY.
run() {
  local key=$1; shift
  local line t0 a prev="" args=()
  for a in "$@"; do # QUICK: every --iters becomes 1 and every --warmup 0
    if [ "$QUICK" = 1 ] && [ "$prev" = --iters ]; then a=1; fi
    if [ "$QUICK" = 1 ] && [ "$prev" = --warmup ]; then a=0; fi
    args+=("$a"); prev=$a
  done
  t0=$(date +%s)
  if line=$("${args[@]}" 2>"$RESULTS.err" | tail -n 1) && [ -n "$line" ]; then
    printf '%s\t%s\n' "$key" "$line" >>"$RESULTS"
    note "$key: $(echo "$line" | sed 's/.*"img_per_s_median": *\([0-9.]*\).*/\1/') img/s ($(($(date +%s) - t0)) s)"
  else
    note "$key: FAILED: $(tail -n 3 "$RESULTS.err" | tr '\n' ' ')"
    printf '%s\t{"failed": true}\n' "$key" >>"$RESULTS"
  fi
}
X() { "$BENCH" --threads "$THREADS" "$@"; }
PT() { "$PYTHON" "$PEERS/peer_torch.py" --threads "$THREADS" "$@"; }
PQ() { "$PYTHON" "$PEERS/peer_torch_quality.py" --threads "$THREADS" "$@"; }
ORT() { node "$PEERS/peer_ort.mjs" --threads "$THREADS" "$@"; }

# Contenders of one configuration are queued with add (add_once: first round
# only) and run by flush ROUNDS times, in reverse order every other round
# (A B C, C B A), so a change of load on the shared cores during the run
# falls on every contender alike. Iterations: few enough for ~15 minutes.
QUEUE=()
add() { local key=$1; shift; QUEUE+=("$key"$'\t'0$'\t'"$(printf '%q ' "$@")"); }
add_once() { local key=$1; shift; QUEUE+=("$key"$'\t'1$'\t'"$(printf '%q ' "$@")"); }
flush() {
  local n=${#QUEUE[@]} r i idx key once cmd
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
      if ((r % 2)); then idx=$i; else idx=$((n - 1 - i)); fi
      IFS=$'\t' read -r key once cmd <<<"${QUEUE[$idx]}"
      if [ "$once" = 1 ] && [ "$r" -gt 1 ]; then continue; fi
      eval "run \"\$key#\$r\" $cmd"
    done
  done
  QUEUE=()
}

note "embed"
for net in mfn r50; do
  if [ $net = mfn ]; then m=$MFN; md=$MFN_DYN; else m=$R50; md=$R50_DYN; fi
  for b in 1 64; do
    if [ $net = mfn ] && [ $b = 1 ]; then it=30; w=5
    elif [ $net = mfn ]; then it=5; w=1
    elif [ $b = 1 ]; then it=6; w=2
    else it=2; w=1; fi
    add "embed $net $b xfiq"  X --mode embed --model "$m" --batch $b --iters $it --warmup $w
    add "embed $net $b torch" PT --model "$m" --batch $b --iters $it --warmup $w
    if [ $net = r50 ]; then
      add "embed $net $b native" PT --iresnet 50 --batch $b --iters $it --warmup $w
    fi
    if [ "$HAVE_ORT" = 1 ]; then
      add "embed $net $b ort" ORT --model "$md" --batch $b --iters $it --warmup $w
    fi
    flush
  done
done

note "SER-FIQ (T=100)"
add      "serfiq mfn 1 xfiq"   X  --mode serfiq --model "$MFN" --batch 1 --iters 20 --warmup 3
add      "serfiq mfn 1 smart"  PQ --model "$MFN" --algo serfiq_smart --batch 1 --iters 10 --warmup 2
add_once "serfiq mfn 1 naive"  PQ --model "$MFN" --algo serfiq_naive --batch 1 --iters 3 --warmup 0
flush
add      "serfiq mfn 32 xfiq"  X  --mode serfiq --model "$MFN" --batch 32 --iters 4 --warmup 1
add      "serfiq mfn 32 smart" PQ --model "$MFN" --algo serfiq_smart --batch 32 --iters 4 --warmup 1
add_once "serfiq mfn 32 naive" PQ --model "$MFN" --algo serfiq_naive --batch 32 --iters 1 --warmup 0
flush
add      "serfiq r50 1 xfiq"   X  --mode serfiq --model "$R50" --batch 1 --iters 4 --warmup 1
add      "serfiq r50 1 smart"  PQ --model "$R50" --algo serfiq_smart --batch 1 --iters 3 --warmup 1
add      "serfiq r50 1 smartn" PQ --iresnet 50 --algo serfiq_smart --batch 1 --iters 3 --warmup 1
add_once "serfiq r50 1 naive"  PQ --model "$R50" --algo serfiq_naive --batch 1 --iters 1 --warmup 0
flush
# Naive SER-FIQ on iResNet-50 at batch 32 would take about 100 x 32 forwards
# per iteration (minutes): the batch-1 figure stands in for it (see README).
add      "serfiq r50 32 xfiq"  X  --mode serfiq --model "$R50" --batch 32 --iters 2 --warmup 1
add      "serfiq r50 32 smart" PQ --model "$R50" --algo serfiq_smart --batch 32 --iters 2 --warmup 1
add      "serfiq r50 32 smartn" PQ --iresnet 50 --algo serfiq_smart --batch 32 --iters 2 --warmup 1
flush

note "PLQ (T=100)"
add "plq mfn 1 xfiq"   X  --mode plq --model "$MFN" --batch 1 --iters 10 --warmup 2
add "plq mfn 1 torch"  PQ --model "$MFN" --algo plq --batch 1 --iters 10 --warmup 2
flush
add "plq mfn 32 xfiq"  X  --mode plq --model "$MFN" --batch 32 --iters 3 --warmup 1
add "plq mfn 32 torch" PQ --model "$MFN" --algo plq --batch 32 --iters 3 --warmup 1
flush
add "plq r50 1 xfiq"   X  --mode plq --model "$R50" --batch 1 --iters 3 --warmup 1
add "plq r50 1 torch"  PQ --model "$R50" --algo plq --batch 1 --iters 3 --warmup 1
add "plq r50 1 native" PQ --iresnet 50 --algo plq --batch 1 --iters 3 --warmup 1
flush
add "plq r50 32 xfiq"  X  --mode plq --model "$R50" --batch 32 --iters 2 --warmup 1
add "plq r50 32 torch" PQ --model "$R50" --algo plq --batch 32 --iters 2 --warmup 1
add "plq r50 32 native" PQ --iresnet 50 --algo plq --batch 32 --iters 2 --warmup 1
flush

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START))

# ---- 5. table -----------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
TABLE=$("$PYTHON" - "$RESULTS" "$THREADS" "$OMP_WAIT_POLICY" "$LOAD_START" "$LOAD_END" "$ELAPSED" "$CPU" \
          "$(nproc)" "$QUICK" "$ROUNDS" <<'EOF'
import json, sys
res_path, threads, wait, load0, load1, elapsed, cpu, ncpu, quick, rounds = sys.argv[1:]
R = {}  # key -> per-round results (rounds: "KEY#r")
for line in open(res_path):
    key, js = line.rstrip("\n").split("\t", 1)
    R.setdefault(key.rsplit("#", 1)[0], []).append(json.loads(js))

def rate(key):
    """Mean over the rounds of the median-iteration rate."""
    ok = [r["img_per_s_median"] for r in R.get(key, []) if not r.get("failed")]
    return sum(ok) / len(ok) if ok else None

def spread(key):
    ok = [r["img_per_s_median"] for r in R.get(key, []) if not r.get("failed")]
    return max(ok) / min(ok) - 1 if len(ok) > 1 and min(ok) > 0 else 0.0

def cell(key):
    v = rate(key)
    if v is None:
        return "—" if key not in R else "failed"
    return "%.3g" % v if v < 100 else "%.0f" % v

def cell_ms(key):
    v = rate(key)
    if v is None:
        return cell(key)
    ms = 1e3 / v
    return "%s (%s ms)" % (cell(key), "%.0f" % ms if ms >= 100 else "%.3g" % ms)

def best(*keys):
    """The faster of several forms of one peer: the ratio that counts."""
    have = [k for k in keys if rate(k) is not None]
    return max(have, key=rate) if have else keys[0]

def ratio(a, b, target=None):
    x, y = rate(a), rate(b)
    if x is None or y is None:
        return "—"
    r = x / y
    s = "%.2f×" % r if r < 10 else "%.0f×" % r
    if target is not None:
        s += " ✓" if r >= target else " ✗"
    return s

NET = {"mfn": "default `fr_feature.onnx` (MobileFaceNet)", "r50": "iResNet-50 (random weights)"}
out = []
out.append("CPU: %s, %s cores; %s threads per contender; OMP_WAIT_POLICY=%s; %s round(s) per "
           "contender; load average at start %s, at end %s; %s s in all.%s" % (
           cpu, ncpu, threads, wait, rounds, load0, load1, elapsed,
           " QUICK run (one iteration each): not a measurement." if quick == "1" else ""))
out.append("")
out.append("Images/s from the median iteration, averaged over the rounds (ms per image in "
           "brackets for the quality rows). Ratios are taken against the faster PyTorch form where there are "
           "two. ✓/✗: target met or missed in this run.")
out.append("")
out.append("**Embed** (target: xfiq ≥ 1.5× PyTorch CPU and ≥ 1.0× ONNX Runtime)")
out.append("")
out.append("| network | batch | xfiq | PyTorch (ONNX graph) | PyTorch (native) | ONNX Runtime "
           "| xfiq / PyTorch | xfiq / ORT |")
out.append("|---|---|---|---|---|---|---|---|")
for net in ("mfn", "r50"):
    for b in (1, 64):
        k = "embed %s %d " % (net, b)
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            NET[net], b, cell(k + "xfiq"), cell(k + "torch"),
            cell(k + "native") if net == "r50" else "n/a", cell(k + "ort"),
            ratio(k + "xfiq", best(k + "torch", k + "native"), 1.5), ratio(k + "xfiq", k + "ort", 1.0)))
out.append("")
out.append("**SER-FIQ**, T = 100 (target: xfiq ≥ 30× naive PyTorch)")
out.append("")
out.append("| network | batch | xfiq | PyTorch smart (ONNX graph) | PyTorch smart (native) "
           "| PyTorch naive (ONNX graph) | xfiq / naive | xfiq / smart |")
out.append("|---|---|---|---|---|---|---|---|")
notes = []
for net in ("mfn", "r50"):
    for b in (1, 32):
        k = "serfiq %s %d " % (net, b)
        naive = k + "naive"
        naive_cell = cell_ms(naive)
        if naive not in R:
            naive = "serfiq %s 1 naive" % net
            naive_cell = "(batch 1: %s)" % cell(naive)
            notes.append("Naive SER-FIQ on %s was measured at batch 1 only (whole network 100 times "
                         "per image: minutes per iteration at batch 32); its batch-1 rate stands in for "
                         "batch 32." % NET[net])
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            NET[net], b, cell_ms(k + "xfiq"), cell_ms(k + "smart"),
            cell_ms(k + "smartn") if net == "r50" else "n/a", naive_cell,
            ratio(k + "xfiq", naive, 30), ratio(k + "xfiq", best(k + "smart", k + "smartn"))))
for n in notes:
    out.append("")
    out.append(n)
out.append("")
out.append("**PLQ**, T = 100: SER-FIQ, quality regression, gradient to the pixels, map "
           "(target: xfiq ≥ 1.0× PyTorch autograd)")
out.append("")
out.append("| network | batch | xfiq | PyTorch autograd (ONNX graph) | PyTorch autograd (native) "
           "| xfiq / PyTorch |")
out.append("|---|---|---|---|---|---|")
for net in ("mfn", "r50"):
    for b in (1, 32):
        k = "plq %s %d " % (net, b)
        out.append("| %s | %d | %s | %s | %s | %s |" % (
            NET[net], b, cell_ms(k + "xfiq"), cell_ms(k + "torch"),
            cell_ms(k + "native") if net == "r50" else "n/a",
            ratio(k + "xfiq", best(k + "torch", k + "native"), 1.0)))
noisy = ["%s (%.0f%%)" % (k, 100 * spread(k)) for k in R if spread(k) > 0.25]
if noisy:
    out.append("")
    out.append("Rounds differing by more than 25%% (noisy figures): %s." % ", ".join(noisy))
print("\n".join(out))
EOF
)
echo "$TABLE"
if [ -n "$OUT" ]; then
  printf '%s\n' "$TABLE" >"$OUT.tmp.$$" && mv -f "$OUT.tmp.$$" "$OUT" || die "cannot write $OUT"
  note "table written to $OUT"
fi
