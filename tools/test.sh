#!/usr/bin/env bash
# test.sh - the README's test command: install what is missing, fetch the
# default model, build (with the CUDA backend when nvcc exists) and run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash models/fetch_default.sh >&2 || echo "test.sh: default model unavailable: its tests will be skipped" >&2
bash models/fetch_samples.sh >&2 || echo "test.sh: sample faces unavailable: their tests will be skipped" >&2
build=${XFIQ_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release ${XFIQ_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 1500 ${XFIQ_CTEST_ARGS:-}
