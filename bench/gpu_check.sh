#!/usr/bin/env bash
# gpu_check.sh - the one prepared script for a lent GPU machine (SPEC 11):
# GPU tests, compute-sanitizer, and the whole-model GPU benchmark of xfiq
# beside PyTorch eager, all in 8 minutes, every result under $OUT.
#
#   bash bench/gpu_check.sh --prepare       here: build the portable bundle
#                                           (build-gpu-bundle/bundle, git-ignored)
#   bash bench/gpu_check.sh                 on the GPU machine, from the
#                                           repository root, with the bundle
#                                           carried (carry: build-gpu-bundle/bundle)
#   bash bench/gpu_check.sh --dry-run [--build-dir B]
#                                           here / in CI: the whole plumbing
#                                           without a GPU (bundle from B or
#                                           from --prepare; CPU backend, tiny
#                                           batch; GPU tests must say SKIPPED)
# Options: --out DIR (default $OUT, else build-gpu-bundle/out, or in a dry run
# a temporary folder removed at the end), --budget SECONDS (default 450: the machine gives 8
# minutes all-in), --bundle DIR (default build-gpu-bundle/bundle).
# Environment: XFIQ_GPU_PYTHON (the Python with torch + onnx; default: the
# first of python3, /usr/bin/python3, python that has both), XFIQ_GPU_TESTS_S
# (the GPU tests' share, default 150 s).
#
# What runs on the GPU machine, in order, each step time-boxed (the budget is
# printed; a step that no longer fits is skipped and the summary says so):
#   1. nvidia-smi, the libraries the bundle's binaries load (env.txt)
#   2. in the background: iResNet-100 and iResNet-50 with random weights
#      (models/export_iresnet.py through bench/gpu_check.py export-iresnet)
#   3. every ctest test with label gpu, from the bundle (exit 77 = SKIPPED
#      counts as a FAILURE on a GPU machine), then test_elem
#   4. the cuDNN device-properties JSON (bench_gpu --dump-devprop)
#   5. compute-sanitizer memcheck on `xfiq embed` and `xfiq plq --backend
#      cuda` over the 2 sample faces
#   6. bench_gpu and bench/peers/peer_torch_gpu.py, one model at a time
#      (iResNet-100, the default model, iResNet-50), batch 256, fp32, tf32,
#      bf16, fp16: embed, SER-FIQ T=100, PLQ (XFIQ_CUDNN_LOG records the
#      cuDNN engines chosen)
#   7. bench_cuda (op throughput) when time is left
#   8. the table, printed last, appended to bench/RESULTS.md (on that
#      machine: the lead appends $OUT/results.md here)
# $OUT (8 files): summary.txt env.txt tests.log bench.jsonl bench.log
# results.md cudnn_devprop.json cudnn_engines.log
# Exit status: 0 all passed, 1 something failed, 2 no GPU (not a dry run).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
MODE=run
BUILD_DIR=""
BUNDLE=$SRC/build-gpu-bundle/bundle
OUTDIR=${OUT:-}
BUDGET=450
while [ $# -gt 0 ]; do
    case $1 in
    --prepare) MODE=prepare ;;
    --dry-run) MODE=dry ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a folder}; shift ;;
    --bundle) BUNDLE=${2:?--bundle needs a folder}; shift ;;
    --out) OUTDIR=${2:?--out needs a folder}; shift ;;
    --budget) BUDGET=${2:?--budget needs seconds}; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $BUDGET in
''|*[!0-9]*) echo "gpu_check.sh: --budget needs a whole number of seconds, got '$BUDGET'" >&2; exit 2 ;;
esac
START=$(date +%s)
LIMIT_MIB=64

# ------------------------------------------------------------ helpers
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( START + BUDGET - $(date +%s) )); }
# cap SECONDS [RESERVE_PERCENT]: SECONDS, or what is left of the budget less
# RESERVE_PERCENT of the budget (kept for the later steps); at least 1.
cap() {
    local l=$(( $(left) - BUDGET * ${2:-0} / 100 ))
    [ "$l" -lt 1 ] && l=1 # (timeout 0 would mean no limit)
    [ "$l" -lt "$1" ] && echo "$l" || echo "$1"
}
SUMMARY=/dev/null
say() { printf '[%4s s] %s\n' "$(elapsed)" "$*" | tee -a "$SUMMARY"; }
python_with() { # python_with MODULE...: the first interpreter that has them (found, not imported: torch is slow)
    local c
    for c in ${XFIQ_GPU_PYTHON:-} $PY_CANDIDATES; do
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))' \
            "$@" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    done
    return 1
}
repo_bytes() { # tracked files of the repository (what travels besides the bundle)
    if git -C "$SRC" rev-parse >/dev/null 2>&1; then
        git -C "$SRC" ls-files -z | (cd "$SRC" && xargs -0 du -cb 2>/dev/null) | tail -n 1 | cut -f1
    else
        du -sb --exclude=build-gpu-bundle "$SRC" | cut -f1
    fi
}
check_size() { # check_size BUNDLE: prints the sizes; 1 when over the limit
    local b r
    b=$(du -sb "$1" | cut -f1)
    r=$(repo_bytes)
    say "bundle $(( b / 1048576 )).$(( b % 1048576 * 10 / 1048576 )) MiB + repository $(( r / 1048576 )).$(( r % 1048576 * 10 / 1048576 )) MiB = $(( (b + r) / 1048576 )) MiB (limit ${LIMIT_MIB} MiB)"
    [ $(( b + r )) -lt $(( LIMIT_MIB * 1048576 )) ] || { say "TOO LARGE to carry"; return 1; }
}

# ------------------------------------------------------------ --prepare
prepare() {
    local B=$SRC/build-gpu-bundle t0 targets
    t0=$(date +%s)
    echo "gpu_check --prepare: portable build (-DXFIQ_NATIVE=OFF -DXFIQ_CUDA=ON) in $B"
    mkdir -p "$B" || return 1
    if ! cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DXFIQ_NATIVE=OFF -DXFIQ_CUDA=ON >"$B/prepare.configure.log" 2>&1; then
        tail -n 20 "$B/prepare.configure.log"; echo "configure failed ($B/prepare.configure.log)"; return 1
    fi
    # The executables of the gpu-labelled tests, from ctest (not hard-coded).
    # ctest names a test's command only once it is built: until then the test's
    # name is taken as its target (xfiq_add_c_test); if that fails, build all.
    targets=$(cd "$B" && ctest --show-only=json-v1 -L gpu | /usr/bin/python3 -c '
import json, os, sys
for t in json.load(sys.stdin)["tests"]:
    c = (t.get("command") or [""])[0]
    print(os.path.basename(c) if c.startswith(sys.argv[1] + "/") else t["name"] if not c else "")' "$(cd "$B" && pwd -P)")
    targets=$(echo $targets)
    echo "gpu tests' targets: ${targets:-none}"
    # shellcheck disable=SC2086
    if ! nice -n 10 cmake --build "$B" -j2 --target xfiq_cli test_elem bench_cuda bench_gpu $targets >"$B/prepare.build.log" 2>&1; then
        echo "building those targets failed: building everything"
        if ! nice -n 10 cmake --build "$B" -j2 >>"$B/prepare.build.log" 2>&1; then
            tail -n 30 "$B/prepare.build.log"; echo "build failed ($B/prepare.build.log)"; return 1
        fi
    fi
    /usr/bin/python3 "$SRC/bench/gpu_check.py" bundle --build-dir "$B" --src "$SRC" --dest "$BUNDLE" || return 1
    check_size "$BUNDLE" || return 1
    echo "--prepare took $(( $(date +%s) - t0 )) s. Carry build-gpu-bundle/bundle; run: bash bench/gpu_check.sh"
}

if [ "$MODE" = prepare ]; then
    prepare
    exit $?
fi

# ------------------------------------------------------------ run / dry run
DRY=0
[ "$MODE" = dry ] && DRY=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xfiq-gpucheck.XXXXXX") || exit 1
BG_PID=""
cleanup() {
    [ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
# The CUDA backend keeps its timed cuDNN engine choices under $XDG_CACHE_HOME/xfiq:
# a fresh folder here, so this run times its own and cudnn_engines.log shows them.
export XDG_CACHE_HOME=$WORK/xdg-cache
if [ -z "$OUTDIR" ]; then
    [ $DRY = 1 ] && OUTDIR=$WORK/out || OUTDIR=$SRC/build-gpu-bundle/out
fi
mkdir -p "$OUTDIR" || exit 1
OUTDIR=$(cd "$OUTDIR" && pwd)
SUMMARY=$OUTDIR/summary.txt
ENVF=$OUTDIR/env.txt
TESTS=$OUTDIR/tests.log
JSONL=$OUTDIR/bench.jsonl
BLOG=$OUTDIR/bench.log
: >"$SUMMARY"; : >"$ENVF"; : >"$TESTS"; : >"$JSONL"; : >"$BLOG"
status=0
fail() { say "FAILURE: $*"; status=1; }

say "== xfiq gpu_check $( [ $DRY = 1 ] && echo 'DRY RUN (no GPU: plumbing only) ' )$(date -u +%FT%TZ), budget $BUDGET s, out $OUTDIR"

if [ $DRY = 1 ]; then
    for f in models/.cache/fr_feature.onnx models/.cache/fr_feature.card.json models/.cache/samples/astronaut.png \
        models/.cache/samples/grace_hopper.jpg; do
        if [ ! -f "$SRC/$f" ]; then
            say "SKIPPED: $f is missing (models/fetch_default.sh, models/fetch_samples.sh): the bundle needs it"
            exit 77
        fi
    done
    if [ -n "$BUILD_DIR" ]; then
        BUNDLE=$WORK/bundle
        say "bundle: assembled from the build in $BUILD_DIR"
        /usr/bin/python3 "$SRC/bench/gpu_check.py" bundle --fast --build-dir "$BUILD_DIR" --src "$SRC" --dest "$BUNDLE" \
            >>"$SUMMARY" 2>&1 || { say "bundle assembly failed (summary.txt)"; tail -n 5 "$SUMMARY"; exit 1; }
    else
        say "bundle: --prepare"
        prepare >>"$SUMMARY" 2>&1 || { say "--prepare failed (summary.txt)"; tail -n 20 "$SUMMARY"; exit 1; }
    fi
    check_size "$BUNDLE" || status=1
fi
if [ ! -f "$BUNDLE/gpu_tests.json" ]; then
    say "no bundle in $BUNDLE: run bash bench/gpu_check.sh --prepare on the build machine and carry build-gpu-bundle/bundle"
    exit 1
fi
head -n 7 "$BUNDLE/MANIFEST.txt" | sed 's/^/  /' | tee -a "$SUMMARY"

# Interpreters: one with torch + onnx for the export and the peer, any python3 for the helpers.
if [ $DRY = 1 ]; then PY_CANDIDATES="/usr/bin/python3 python3 python"; else PY_CANDIDATES="python3 /usr/bin/python3 python"; fi
PYT=$(python_with torch onnx) || PYT=""
PYH=$(python_with json tarfile) || { say "no Python 3 here: cannot run the helpers"; exit 1; }
[ -n "$PYT" ] && say "python with torch and onnx: $PYT" \
    || say "no Python with torch and onnx: no iResNet export and no PyTorch peer (set XFIQ_GPU_PYTHON)"

# 1. The GPU and the libraries -------------------------------------------
CARD="" DRIVER="" CUDA_DRV=""
if nvidia-smi >"$WORK/smi.txt" 2>&1; then
    cat "$WORK/smi.txt" | tee -a "$ENVF" "$SUMMARY"
    IFS=, read -r CARD DRIVER < <(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
    DRIVER=${DRIVER# }
    CUDA_DRV=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)
    say "GPU: $CARD, driver $DRIVER, CUDA $CUDA_DRV"
elif [ $DRY = 1 ]; then
    CARD="CPU dry run ($(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1))"
    say "nvidia-smi: none here (dry run)"
else
    cat "$WORK/smi.txt" >>"$ENVF"
    say "nvidia-smi failed: no GPU here ($(head -n 1 "$WORK/smi.txt" | cut -c1-120)); nothing else runs"
    exit 2
fi
nvidia_dirs() { # the pip nvidia-* packages' library folders
    [ -n "$PYT" ] || return 0
    "$PYT" - 2>/dev/null <<'EOF'
import os
try:
    import nvidia
    bases = list(nvidia.__path__)
except Exception:
    bases = []
seen = set()
for b in bases:
    for root, _, files in os.walk(b):
        if root not in seen and any(f.startswith("lib") and ".so" in f for f in files):
            seen.add(root)
            print(root)
EOF
}
# The bundle's own libraries travel compressed: unpacked into the scratch folder.
if tar -xzf "$BUNDLE/lib.tar.gz" -C "$WORK" 2>>"$ENVF" || "$PYH" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$BUNDLE/lib.tar.gz" "$WORK"; then
    :
else
    fail "cannot unpack $BUNDLE/lib.tar.gz"
fi
XLD=$WORK/lib
for d in $(nvidia_dirs) /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && XLD=$XLD:$d
done
XLD=$XLD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
xrun() { LD_LIBRARY_PATH=$XLD "$@"; } # the bundle's binaries with their libraries
{
    echo "== LD_LIBRARY_PATH of the bundle's binaries"; echo "$XLD" | tr ':' '\n'
    echo "== ldd"; for b in "$BUNDLE"/bin/*; do echo "-- $b"; LD_LIBRARY_PATH=$XLD ldd "$b"; done
    echo "== manifest"; cat "$BUNDLE/MANIFEST.txt"
} >>"$ENVF" 2>&1
if LD_LIBRARY_PATH=$XLD ldd "$BUNDLE"/bin/* 2>/dev/null | grep -q "not found"; then
    fail "libraries not found: $(LD_LIBRARY_PATH=$XLD ldd "$BUNDLE"/bin/* 2>/dev/null | grep 'not found' | sort -u | tr -s ' \t' ' ' | tr '\n' ';')"
fi
SAN=""
for c in compute-sanitizer "${CUDA_HOME:-/usr/local/cuda}/bin/compute-sanitizer" /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda-*/bin/compute-sanitizer; do
    if command -v "$c" >/dev/null 2>&1; then SAN=$(command -v "$c"); break; fi
done
if command -v cuobjdump >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/cuobjdump ]; then
    OBJ=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)
    say "device code in bench_gpu: $("$OBJ" --list-elf "$BUNDLE/bin/bench_gpu" 2>/dev/null | grep -o 'sm_[0-9a-z]*' | sort -u | tr '\n' ' ')"
fi

# 2. Models: iResNet-100 / -50 exported in the background ------------------
if [ $DRY = 1 ]; then
    BIG=iresnet-tiny; BIG_DEPTH=tiny; MID=""; MID_DEPTH=""
else
    BIG=iresnet100; BIG_DEPTH=100; MID=iresnet50; MID_DEPTH=50
fi
EXPORT_CAP=$(cap 240 27)
if [ -n "$PYT" ]; then
    say "exporting $BIG${MID:+ and $MID} (random weights, seed 0) in the background (at most $EXPORT_CAP s)"
    JOBS=("--job" "$BIG_DEPTH:$WORK/$BIG.onnx")
    [ -n "$MID" ] && JOBS+=("--job" "$MID_DEPTH:$WORK/$MID.onnx")
    (cd "$WORK" && exec timeout "$EXPORT_CAP" "$PYT" "$SRC/bench/gpu_check.py" export-iresnet "${JOBS[@]}") \
        >"$WORK/export.log" 2>&1 &
    BG_PID=$!
fi

# 3. GPU tests --------------------------------------------------------------
T_CAP=$(cap "${XFIQ_GPU_TESTS_S:-150}" 45)
[ "$T_CAP" -lt 10 ] && say "GPU tests: out of time, not run"
say "GPU tests from the bundle (at most $T_CAP s; SKIPPED is $( [ $DRY = 1 ] && echo 'accepted in a dry run' || echo 'a FAILURE here'))"
"$PYH" "$SRC/bench/gpu_check.py" tests --bundle "$BUNDLE" --src "$SRC" --log "$TESTS" --budget "$T_CAP" \
    --python "${PYT:-python3}" --work "$WORK/tests" --ld-library-path "$XLD" $( [ $DRY = 1 ] && echo --dry-run ) \
    2>&1 | tee -a "$SUMMARY"
[ "${PIPESTATUS[0]}" = 0 ] || fail "GPU tests (tests.log)"
echo "===== test_elem" >>"$TESTS"
if xrun timeout "$(cap 30 13)" "$BUNDLE/bin/test_elem" >>"$TESTS" 2>&1; then say "test_elem: passed"; else fail "test_elem (tests.log)"; fi

# 4. Versions and the cuDNN device properties ------------------------------
xrun timeout 30 "$BUNDLE/bin/bench_gpu" --versions --dump-devprop "$OUTDIR/cudnn_devprop.json" >"$WORK/versions.out" 2>&1
rc=$?
grep '^{' "$WORK/versions.out" >>"$JSONL"
grep -v '^{' "$WORK/versions.out" | while read -r l; do say "$l"; done
if [ $rc != 0 ] && [ $DRY = 0 ]; then fail "cuDNN device-properties dump (exit $rc)"; fi
[ -s "$OUTDIR/cudnn_devprop.json" ] || rm -f "$OUTDIR/cudnn_devprop.json"
say "versions: $(grep -h '"kind": "versions"' "$WORK/versions.out" | head -n 1)"

# 5. compute-sanitizer memcheck on the CLI ----------------------------------
FACES=("$BUNDLE/models/samples/astronaut.png" "$BUNDLE/models/samples/grace_hopper.jpg")
CLI_COMMON=(-q -b 2 -m "$BUNDLE/models/fr_feature.onnx" -l "$BUNDLE/models/samples/samples.landmarks.txt")
sanitize() { # sanitize NAME CAP xfiq-args...
    local name=$1 c=$2 rc; shift 2
    if [ "$c" -lt 20 ]; then say "memcheck $name: skipped (out of time)"; return; fi
    echo "===== compute-sanitizer memcheck: xfiq $*" >>"$TESTS"
    xrun timeout "$c" "$SAN" --tool memcheck --error-exitcode 99 --print-limit 20 "$BUNDLE/bin/xfiq" "$@" >"$WORK/san.log" 2>&1
    rc=$?
    cat "$WORK/san.log" >>"$TESTS"
    case $rc in
    0) say "memcheck $name: clean ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/san.log" | tail -n 1))" ;;
    99) fail "memcheck $name found errors: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/san.log" | tail -n 1) (tests.log)" ;;
    124) say "memcheck $name: INCOMPLETE, timed out after $c s (no verdict; tests.log)" ;;
    *) fail "memcheck $name: exit $rc: $(grep -v '^=========' "$WORK/san.log" | grep . | tail -n 1 | cut -c1-200) (tests.log)" ;;
    esac
}
if [ $DRY = 1 ]; then
    say "memcheck: no GPU (dry run): the same xfiq commands on the CPU backend, then the CUDA one must refuse cleanly"
    for cmd in embed plq; do
        echo "===== dry run: xfiq $cmd --backend cpu" >>"$TESTS"
        if xrun timeout 60 "$BUNDLE/bin/xfiq" $cmd --backend cpu -t 1 "${CLI_COMMON[@]}" -o "$WORK/cli_$cmd" \
            $( [ $cmd = plq ] && echo "-T 10 --no-png" ) "${FACES[@]}" >>"$TESTS" 2>&1; then
            say "xfiq $cmd --backend cpu on the 2 sample faces: ok"
        else
            fail "xfiq $cmd --backend cpu on the sample faces (tests.log)"
        fi
    done
    xrun timeout 60 "$BUNDLE/bin/xfiq" plq --backend cuda "${CLI_COMMON[@]}" -o "$WORK/cli_cuda" "${FACES[@]}" >"$WORK/cuda.err" 2>&1
    say "xfiq plq --backend cuda without a GPU: exit $? ($(head -n 1 "$WORK/cuda.err"))"
    [ -n "$SAN" ] && say "compute-sanitizer: $SAN (not run without a GPU)" || say "compute-sanitizer: not installed here (the GPU machine has it)"
elif [ -z "$SAN" ]; then
    fail "compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin)"
else
    sanitize "xfiq embed --backend cuda" "$(cap 75 53)" embed --backend cuda "${CLI_COMMON[@]}" -o "$WORK/san_embed" "${FACES[@]}"
    sanitize "xfiq plq --backend cuda" "$(cap 90 49)" plq --backend cuda "${CLI_COMMON[@]}" -o "$WORK/san_plq" --no-png "${FACES[@]}"
fi

# 6. Benchmarks --------------------------------------------------------------
if [ $DRY = 1 ]; then
    BATCH=2; T=10; COMMON_X=(--dry-run --T $T); COMMON_P=(--dry-run --T $T --threads 1); export OMP_WAIT_POLICY=PASSIVE
else
    # bf16 first (the headline), fp32 last: what a short budget cuts is the least wanted.
    BATCH=256; T=100
    COMMON_X=(--batch $BATCH --T $T --warmup 2 --iters 5 --max-seconds 1.5 --precisions bf16,fp16,tf32,fp32)
    COMMON_P=(--batch $BATCH --T $T --warmup 2 --iters 5 --max-seconds 1.5 --naive-passes 3
        --precisions bf16,fp16,tf32,fp32 --tasks embed,serfiq,plq,serfiq_naive)
fi
if [ -n "$BG_PID" ]; then
    w=$(cap 150 33)
    say "waiting for the model export (at most $w s)"
    for _ in $(seq "$w"); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$BG_PID" 2>/dev/null; then
        kill "$BG_PID" 2>/dev/null; say "model export still running: stopped (out of time)"
    fi
    wait "$BG_PID" 2>/dev/null
    BG_PID=""
    cat "$WORK/export.log" >>"$BLOG"
    grep '^export-iresnet: ' "$WORK/export.log" | while read -r l; do say "$l"; done
fi
# Models in priority order: name, file, weight of the remaining benchmark time.
MODELS=()
[ -f "$WORK/$BIG.onnx" ] && MODELS+=("$BIG:$WORK/$BIG.onnx:45") || say "$BIG: not available (export failed or skipped): not benchmarked"
MODELS+=("default:$BUNDLE/models/fr_feature.onnx:20")
if [ -n "$MID" ]; then
    [ -f "$WORK/$MID.onnx" ] && MODELS+=("$MID:$WORK/$MID.onnx:35") || say "$MID: not available (export failed or skipped): not benchmarked"
fi
BENCH_END=$(( START + BUDGET - 25 ))
wsum=0; for m in "${MODELS[@]}"; do wsum=$(( wsum + ${m##*:} )); done
for m in "${MODELS[@]}"; do
    name=${m%%:*}; rest=${m#*:}; file=${rest%:*}; weight=${m##*:}
    now=$(date +%s); avail=$(( BENCH_END - now ))
    if [ "$avail" -lt 20 ]; then
        say "bench $name: SKIPPED (out of time: $avail s left for the benchmarks)"
        echo "{\"peer\": \"xfiq\", \"kind\": \"note\", \"model\": \"$name\", \"status\": \"skipped\"}" >>"$JSONL"
        continue
    fi
    share=$(( avail * weight / wsum )); wsum=$(( wsum - weight ))
    half=$(( share / 2 ))
    say "bench $name: xfiq then PyTorch, $share s (batch $BATCH, T $T)"
    XFIQ_CUDNN_LOG=$WORK/cudnn_$name.log xrun timeout $(( half + 40 )) "$BUNDLE/bin/bench_gpu" --model "$file" --name "$name" \
        "${COMMON_X[@]}" --deadline $(( now + half )) >"$WORK/x.jsonl" 2>>"$BLOG"
    rc=$?
    cat "$WORK/x.jsonl" >>"$JSONL"
    case $rc in
    0) ;;
    124) say "bench_gpu $name: stopped at its time limit (the configurations not reached show as 'not run')" ;;
    *) fail "bench_gpu $name: exit $rc (bench.log, bench.jsonl)" ;;
    esac
    if [ -n "$PYT" ]; then
        now=$(date +%s); pend=$(( now + share - half ))
        [ $pend -gt "$BENCH_END" ] && pend=$BENCH_END
        timeout $(( pend - now + 40 )) "$PYT" "$SRC/bench/peers/peer_torch_gpu.py" --model "$file" --name "$name" \
            "${COMMON_P[@]}" --deadline "$pend" >"$WORK/p.jsonl" 2>>"$BLOG"
        rc=$?
        cat "$WORK/p.jsonl" >>"$JSONL"
        case $rc in
        0) ;;
        124) say "PyTorch peer $name: stopped at its time limit (the configurations not reached show as 'not run')" ;;
        *) fail "PyTorch peer $name: exit $rc (bench.log, bench.jsonl)" ;;
        esac
    fi
    for who in x p; do
        [ -f "$WORK/$who.jsonl" ] || continue
        "$PYH" - "$WORK/$who.jsonl" <<'EOF' | while read -r l; do say "  $l"; done
import json, sys
rows = [json.loads(x) for x in open(sys.argv[1]) if x.startswith("{")]
by = {}
for r in rows:
    if r.get("kind") == "result":
        by.setdefault(r["status"], []).append("%s/%s" % (r["task"], r["precision"]))
parts = ["%s %d%s" % (k, len(v), "" if k == "ok" else " (%s)" % " ".join(v)) for k, v in sorted(by.items())]
print("%s: %s" % (rows[0]["peer"] if rows else "?", "; ".join(parts) or "no results"))
EOF
        rm -f "$WORK/$who.jsonl"
    done
done
: >"$OUTDIR/cudnn_engines.log"
for f in "$WORK"/cudnn_*.log; do
    [ -f "$f" ] || continue
    echo "===== $(basename "$f" .log | sed 's/^cudnn_//')" >>"$OUTDIR/cudnn_engines.log"
    cat "$f" >>"$OUTDIR/cudnn_engines.log"
done
[ -s "$OUTDIR/cudnn_engines.log" ] || echo "XFIQ_CUDNN_LOG produced nothing (not in this build yet, or no cuDNN plan was made)" >"$OUTDIR/cudnn_engines.log"
for f in "$XDG_CACHE_HOME"/xfiq/*; do
    [ -f "$f" ] || continue
    echo "===== engine cache $(basename "$f") (\$XDG_CACHE_HOME/xfiq)" >>"$OUTDIR/cudnn_engines.log"
    cat "$f" >>"$OUTDIR/cudnn_engines.log"
done

# 7. Op throughput, when time is left -----------------------------------------
if [ $DRY = 0 ] && [ "$(left)" -gt 45 ]; then
    echo "===== bench_cuda 64 20" >>"$TESTS"
    xrun timeout "$(cap 40 4)" "$BUNDLE/bin/bench_cuda" 64 20 >>"$TESTS" 2>&1 && say "bench_cuda: done (tests.log)" \
        || say "bench_cuda: exit $? (tests.log; not counted)"
elif [ $DRY = 0 ]; then
    say "bench_cuda: skipped (out of time)"
fi

# 8. The table ------------------------------------------------------------------
ORDER="$BIG default ${MID}"
"$PYH" - "$WORK/meta.json" "$CARD" "$DRIVER" "$CUDA_DRV" "$ORDER" "$DRY" <<'EOF'
import json, sys
out, card, driver, cuda, order, dry = sys.argv[1:7]
note = "Dry run on the CPU backend (batch 2, T 10): checks the plumbing, the figures mean nothing." if dry == "1" else \
    "Batch 256, T 100, random-weight iResNets (seed 0) and the default model."
json.dump({"card": card or "?", "driver": driver or "n/a", "cuda_driver": cuda or "n/a", "models": order.split(),
           "note": note}, open(out, "w"))
EOF
if [ $DRY = 1 ]; then
    RESULTS=$WORK/RESULTS.copy.md
    cp "$SRC/bench/RESULTS.md" "$RESULTS"
    SUM_BEFORE=$(sha256sum "$SRC/bench/RESULTS.md" | cut -d' ' -f1)
else
    RESULTS=$SRC/bench/RESULTS.md
fi
LINES_BEFORE=$(wc -l <"$RESULTS")
"${PYT:-$PYH}" "$SRC/bench/gpu_check.py" table --jsonl "$JSONL" --meta "$WORK/meta.json" --out-md "$OUTDIR/results.md" \
    --append "$RESULTS" $( [ $DRY = 1 ] && echo --dry-run ) >"$WORK/table.txt" 2>&1 || fail "table (see below)"
LINES_AFTER=$(wc -l <"$RESULTS")
if [ $DRY = 1 ]; then
    # The columns a CPU run cannot reach (targets, % of the tensor limit, vs fp32) on synthetic H100 rows.
    if "${PYT:-$PYH}" "$SRC/bench/gpu_check.py" table-selftest --model "$BUNDLE/fixtures/golden/iresnet_tiny.onnx" \
        --work "$WORK/selftest" >"$WORK/selftest.txt" 2>&1; then
        say "table self-test on synthetic H100 rows (targets, % of limit, vs fp32): ok"
    else
        cat "$WORK/selftest.txt" >>"$SUMMARY"; fail "table self-test (summary.txt)"
    fi
    [ "$(sha256sum "$SRC/bench/RESULTS.md" | cut -d' ' -f1)" = "$SUM_BEFORE" ] || fail "the dry run changed bench/RESULTS.md"
    [ "$LINES_AFTER" -gt "$LINES_BEFORE" ] && say "RESULTS.md appending: $(( LINES_AFTER - LINES_BEFORE )) lines into a temporary copy (bench/RESULTS.md untouched)" \
        || fail "nothing was appended to the RESULTS.md copy"
    grep '"peer": "xfiq"' "$JSONL" | grep -q '"status": "ok"' || fail "bench_gpu gave no result"
    if [ -n "$PYT" ]; then
        grep '"peer": "pytorch"' "$JSONL" | grep -q '"status": "ok"' || fail "the PyTorch peer gave no result"
    fi
else
    say "appended $(( LINES_AFTER - LINES_BEFORE )) lines to bench/RESULTS.md on this machine; the same section is \$OUT/results.md"
fi
ls "$OUTDIR" | tr '\n' ' ' | sed 's/^/out: /' | while read -r l; do say "$l"; done
say "== done in $(elapsed) s of $BUDGET, status $status ($( [ $status = 0 ] && echo 'all passed' || echo 'see FAILURE lines above'))"
cat "$WORK/table.txt" | tee -a "$SUMMARY"
exit $status
