#!/usr/bin/env bash
# diskfull.sh - a full disk while the outputs are written: the command exits
# 1 naming the file, no half-written or mixed output appears, and the
# previous complete set of outputs stays as it was (byte for byte).
# As root: a 1 MiB tmpfs is mounted for the outputs. Otherwise a file-size
# limit (ulimit -f, SIGXFSZ ignored so writes fail with EFBIG) plays the
# full disk.
set -u
bin=${XFIQ_BIN:?}; src=${XFIQ_SOURCE_DIR:?}; data=${XFIQ_DATA_DIR:-}
model="$src/models/.cache/fr_feature.onnx"
[ -f "$model" ] || { echo "SKIPPED: default model not fetched ($model)"; exit 77; }
[ -d "$data/lfw-folds12/aligned_112x112" ] || { echo "SKIPPED: real faces absent ($data)"; exit 77; }
tmp=$(mktemp -d)
mnt="$tmp/disk"; mkdir "$mnt"
how="ulimit -f"
if [ "${XFIQ_DISKFULL_MODE:-}" != ulimit ] && [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then how="1 MiB tmpfs"; fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort | head -40 > "$tmp/small.txt"
find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort | head -400 > "$tmp/big.txt"
fail=0
run_limited() { # run_limited KB CMD...: at most KB more kilobytes can be written
  local kb=$1; shift
  if [ "$how" = "ulimit -f" ]; then (trap '' XFSZ; ulimit -f "$kb"; exec "$@"); return; fi
  local avail; avail=$(df --output=avail -k "$mnt" | tail -1)
  [ "$avail" -gt "$kb" ] && dd if=/dev/zero of="$mnt/filler" bs=1k count=$((avail - kb)) 2>/dev/null
  "$@"; local rc=$?
  rm -f "$mnt/filler"
  return $rc
}
# 1. a complete set from a small job
"$bin" embed -q -b 16 -t 2 -o "$mnt/out" @"$tmp/small.txt" || { echo "FAILED: small embed"; fail=1; }
"$bin" quality -q -b 16 -t 2 -T 4 -o "$mnt/q.csv" @"$tmp/small.txt" || { echo "FAILED: small quality"; fail=1; }
cp -r "$mnt/out" "$tmp/before"; cp "$mnt/q.csv" "$tmp/q_before.csv"
# 2. a bigger job over the same outputs runs out of space
run_limited 256 "$bin" embed -q -b 16 -t 2 -o "$mnt/out" @"$tmp/big.txt" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || { echo "FAILED: embed on a full disk: exit $rc, want 1"; fail=1; }
grep -Eq "$mnt/out/[^ ]*: .*(No space left on device|File too large)" "$tmp/err" ||
  { echo "FAILED: the message names no file and reason:"; cat "$tmp/err"; fail=1; }
for f in embeddings.npy magnitudes.npy files.csv; do
  cmp -s "$tmp/before/$f" "$mnt/out/$f" || { echo "FAILED: $f changed by the failed run (mixed outputs)"; fail=1; }
done
ls -a "$mnt/out" | grep -q '\.tmp\.' && { echo "FAILED: temporaries left behind"; fail=1; }
rm -rf "$mnt/out/.xfiq-partial"   # the failed embed's checkpoint (kept for --resume)
run_limited 24 "$bin" quality -q -b 16 -t 2 -T 4 -o "$mnt/q.csv" @"$tmp/big.txt" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || { echo "FAILED: quality on a full disk: exit $rc, want 1"; fail=1; }
cmp -s "$tmp/q_before.csv" "$mnt/q.csv" || { echo "FAILED: quality.csv changed by the failed run"; fail=1; }
ls -a "$mnt" | grep -q '\.tmp\.' && { echo "FAILED: temporaries left behind"; fail=1; }
[ $fail = 0 ] && echo "diskfull ($how): failed runs exit 1 naming the file, previous outputs untouched"
exit $fail
