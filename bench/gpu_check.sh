#!/usr/bin/env bash
# gpu_check.sh - the one prepared check for the rare times a GPU machine is
# lent: nvidia-smi, the GPU tests (label gpu) and the CUDA benchmarks, with
# every log written to $OUT (or build-gpu/logs), all within about 5 minutes.
#
#   bench/gpu_check.sh            on the GPU machine, from the repository root
#   bench/gpu_check.sh --prepare  here, before lending one (see below)
#
# Two ways to get the binaries there:
#  - build: when that machine has the Debian build dependencies (pkg-config
#    finds openblas, libprotobuf-c, libcjson, libpng), it configures with
#    -DXFIQ_CUDA=ON, builds the GPU targets and runs `ctest -L gpu`;
#  - bundle: otherwise it runs binaries built here by --prepare, which puts
#    test_cuda_ops, test_elem, bench_cuda and the non-CUDA shared libraries
#    they need (OpenBLAS, protobuf-c, cJSON, libpng, gfortran) into
#    build-gpu-bundle/bundle (ignored by git: carry that path). CUDA, cuBLAS
#    and cuDNN come from the GPU machine itself (/usr/local/cuda or the
#    nvidia-* Python wheels there): they are far too large to carry.
# XFIQ_GPU_MODE=build or bundle forces one way (default: build where possible).
# Exit status: 0 when every GPU test passed, 1 when one failed or could not
# run, 2 when no GPU was seen.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=$SRC/build-gpu-bundle/bundle
JOBS=$(nproc 2>/dev/null || echo 2)

if [ "${1:-}" = "--prepare" ]; then
    # Portable build (no -march=native: that machine's CPU may differ).
    B=$SRC/build-gpu-bundle
    cmake -S "$SRC" -B "$B" -DXFIQ_CUDA=ON -DXFIQ_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
    cmake --build "$B" -j"${JOBS}" --target test_cuda_ops test_elem bench_cuda || exit 1
    rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/bin" "$BUNDLE/lib" || exit 1
    for t in tests/test_cuda_ops tests/test_elem bench/bench_cuda; do
        cp "$B/$t" "$BUNDLE/bin/" || exit 1
    done
    # Shared libraries outside glibc/gcc and outside CUDA (which the GPU machine has).
    ldd "$BUNDLE"/bin/* | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
        case "$(basename "$lib")" in
        libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libgcc_s*|libstdc++*|libgomp*) ;;
        libcuda*|libcublas*|libcudnn*|libnv*) ;;
        *) cp -L "$lib" "$BUNDLE/lib/" ;;
        esac
    done
    du -sh "$BUNDLE"
    echo "bundle ready: carry build-gpu-bundle/bundle and run bash bench/gpu_check.sh"
    exit 0
fi

LOG=${OUT:-$SRC/build-gpu/logs}
mkdir -p "$LOG"
SUMMARY=$LOG/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
START=$(date +%s)

say "== gpu_check $(date -u +%FT%TZ) in $SRC"
if ! nvidia-smi >"$LOG/nvidia-smi.txt" 2>&1; then
    say "nvidia-smi failed: no GPU here (see nvidia-smi.txt)"
    exit 2
fi
say "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"

# CUDA libraries of this machine, for the bundle's binaries.
cuda_lib_path() {
    local dirs="" d
    for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
        [ -d "$d" ] && dirs="$dirs:$d"
    done
    local py
    py=$(python3 - 2>/dev/null <<'EOF'
import glob, os
try:
    import nvidia
    for base in nvidia.__path__:
        for d in sorted(glob.glob(os.path.join(base, "*", "lib"))):
            print(d)
except Exception:
    pass
EOF
)
    for d in $py; do dirs="$dirs:$d"; done
    echo "${dirs#:}"
}

status=0
MODE=${XFIQ_GPU_MODE:-auto}
if [ "$MODE" = auto ]; then
    MODE=bundle
    pkg-config --exists openblas libprotobuf-c libcjson libpng 2>/dev/null && command -v cmake >/dev/null && MODE=build
fi
if [ "$MODE" = build ]; then
    say "mode: build"
    B=$SRC/build-gpu
    if ! cmake -S "$SRC" -B "$B" -DXFIQ_CUDA=ON -DCMAKE_BUILD_TYPE=Release >"$LOG/configure.log" 2>&1; then
        say "configure failed (configure.log)"
        exit 1
    fi
    if ! timeout 240 cmake --build "$B" -j"$JOBS" --target test_cuda_ops test_elem bench_cuda >"$LOG/build.log" 2>&1; then
        say "build failed (build.log)"
        exit 1
    fi
    say "build: $(( $(date +%s) - START )) s"
    (cd "$B" && timeout 300 ctest -L gpu --output-on-failure) >"$LOG/ctest_gpu.log" 2>&1 || status=1
    tail -n 3 "$LOG/ctest_gpu.log" | tee -a "$SUMMARY"
    grep -q "Skipped\|\*\*\*Not Run" "$LOG/ctest_gpu.log" && { say "a GPU test was skipped on a GPU machine"; status=1; }
    BIN_ELEM=$B/tests/test_elem
    BIN_BENCH=$B/bench/bench_cuda
    export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}:$(cuda_lib_path)
else
    if [ ! -x "$BUNDLE/bin/test_cuda_ops" ]; then
        say "no Debian build dependencies here and no bundle: run bench/gpu_check.sh --prepare first and carry build-gpu-bundle/bundle"
        exit 1
    fi
    say "mode: bundle (binaries from --prepare)"
    export LD_LIBRARY_PATH=$BUNDLE/lib:$(cuda_lib_path)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >"$LOG/env.txt"
    ldd "$BUNDLE"/bin/* >>"$LOG/env.txt" 2>&1
    timeout 240 "$BUNDLE/bin/test_cuda_ops" >"$LOG/test_cuda_ops.log" 2>&1
    rc=$?
    tail -n 2 "$LOG/test_cuda_ops.log" | tee -a "$SUMMARY"
    case $rc in
    0) say "test_cuda_ops: passed" ;;
    77) say "test_cuda_ops: SKIPPED on a GPU machine (see the log)"; status=1 ;;
    *) say "test_cuda_ops: FAILED (exit $rc)"; status=1 ;;
    esac
    BIN_ELEM=$BUNDLE/bin/test_elem
    BIN_BENCH=$BUNDLE/bin/bench_cuda
fi

timeout 30 "$BIN_ELEM" >"$LOG/test_elem.log" 2>&1 || { say "test_elem failed"; status=1; }
timeout 120 "$BIN_BENCH" 64 20 >"$LOG/bench_cuda.log" 2>&1 || { say "bench_cuda failed (exit $?)"; status=1; }
cat "$LOG/bench_cuda.log" >>"$SUMMARY"
say "== done in $(( $(date +%s) - START )) s, status $status"
exit $status
