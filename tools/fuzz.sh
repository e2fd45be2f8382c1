#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer targets (clang, ASan + UBSan, LeakSanitizer
# on) in build-fuzz/ and runs each for SECONDS (default 30) on a copy of its
# seed corpus plus the hostile corpus. Usage: tools/fuzz.sh [SECONDS] [TARGET...]
# Exit 1 on any crash, hang (-timeout), leak or out-of-memory; the reproducer
# is left in build-fuzz/artifacts/<target>/. XFIQ_FUZZ_TIMEOUT (seconds, default
# 10) is the per-input hang limit: raise it on a machine so loaded that a
# niced fuzzer waits seconds for the CPU (measured here: at load 14 on 2
# cores, inputs taking 0.2 s of CPU under ASan hit 10 s of wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}; shift || true
bdir=${XFIQ_FUZZ_BUILD_DIR:-build-fuzz}
CC=clang cmake -S . -B "$bdir" -DXFIQ_FUZZ=ON -DXFIQ_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$bdir" -j"$(nproc)" >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
fail=0
for t in "${targets[@]}"; do
  work="$bdir/corpus/$t"; art="$bdir/artifacts/$t"
  mkdir -p "$work" "$art"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dirs=("$work")
  [ -d tests/fuzz/hostile/"$t" ] && dirs+=(tests/fuzz/hostile/"$t")
  log="$bdir/fuzz_$t.log"
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     "$bdir/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout="${XFIQ_FUZZ_TIMEOUT:-10}" -max_len=65536 \
       -artifact_prefix="$art/" -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1; then
    echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${secs}s, no crash"
  else
    echo "fuzz $t: FAILED (see $log and $art)"; tail -30 "$log"; fail=1
  fi
done
exit $fail
