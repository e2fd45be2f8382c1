#!/usr/bin/env bash
# test.sh - the README's test command: install what is missing, fetch the
# default model, build (with the CUDA backend when nvcc exists) and run ctest;
# then the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer on), real-data tests included (XFIQ_TEST_SANITIZE=0 skips
# it), and a short libFuzzer run of every fuzz target (XFIQ_FUZZ_SECONDS,
# default 30; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash tools/install_deps.sh
bash models/fetch_default.sh >&2 || echo "test.sh: default model unavailable: its tests will be skipped" >&2
bash models/fetch_samples.sh >&2 || echo "test.sh: sample faces unavailable: their tests will be skipped" >&2
build=${XFIQ_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release ${XFIQ_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
t0=$SECONDS
(cd "$build" && ctest --output-on-failure --timeout 1500 ${XFIQ_CTEST_ARGS:-})
echo "test.sh: test suite passed in $((SECONDS - t0)) s" >&2
if [ "${XFIQ_TEST_SANITIZE:-1}" != 0 ]; then
  t0=$SECONDS
  sbuild=${XFIQ_SANITIZE_BUILD_DIR:-build-asan}
  # MPI off there: the sanitized suite checks xfiq's code, not Open MPI's
  # runtime (not built with the sanitizers); the MPI tests run in the first suite.
  cmake -S . -B "$sbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXFIQ_SANITIZE=ON -DXFIQ_CUDA=OFF -DXFIQ_MPI=OFF -DXFIQ_BUILD_BENCH=OFF \
        ${XFIQ_CMAKE_ARGS:-} >/dev/null
  cmake --build "$sbuild" -j"$(nproc)"
  # halt on the first UB report; leaks fail the test that has them. The
  # iResNet-100 tests (a 250 MB random-weight model, no real data) are left
  # out by default for time: XFIQ_SANITIZE_CTEST_ARGS="" runs them too.
  (cd "$sbuild" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1 \
     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     LSAN_OPTIONS=suppressions="$root/tools/lsan.supp":print_suppressions=0 \
     ctest --output-on-failure --timeout 3000 ${XFIQ_SANITIZE_CTEST_ARGS:--E iresnet100})
  echo "test.sh: sanitizer suite (ASan + UBSan + LSan) passed in $((SECONDS - t0)) s" >&2
fi
if [ "${XFIQ_FUZZ_SECONDS:-30}" != 0 ]; then
  t0=$SECONDS
  bash tools/fuzz.sh "${XFIQ_FUZZ_SECONDS:-30}"
  echo "test.sh: fuzz runs passed in $((SECONDS - t0)) s" >&2
fi
