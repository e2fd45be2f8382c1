#!/usr/bin/env bash
# rss.sh - memory bounded by the batch, not the number of images: peak RSS
# of `embed` and `quality` over N1 and N2 images (the real faces of
# lfw-folds12 repeated through a list file) must differ by less than 10%.
# Not part of ctest (minutes of CPU); run: XFIQ_BIN=build/xfiq bash tests/cli/rss.sh [N1 N2]
set -u
bin=${XFIQ_BIN:?}; data=${XFIQ_DATA_DIR:-$(dirname "$0")/../../../shared/data}
n1=${1:-2000}; n2=${2:-20000}; T=${XFIQ_RSS_T:-20}
margs=(); [ -n "${XFIQ_RSS_MODEL:-}" ] && margs=(-m "$XFIQ_RSS_MODEL")   # a small model makes it quick
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort > "$tmp/faces.txt"
for n in $n1 $n2; do
  : > "$tmp/l$n.txt"
  while [ "$(wc -l < "$tmp/l$n.txt")" -lt "$n" ]; do cat "$tmp/faces.txt" >> "$tmp/l$n.txt"; done
  head -n "$n" "$tmp/l$n.txt" > "$tmp/list$n.txt"
done
fail=0
for cmd in embed quality; do
  declare -A rss=()
  for n in $n1 $n2; do
    if [ $cmd = embed ]; then args=(embed -q "${margs[@]}" -o "$tmp/e$n"); else args=(quality -q "${margs[@]}" -T "$T" -o "$tmp/q$n.csv"); fi
    t0=$SECONDS
    /usr/bin/time -f "%M" -o "$tmp/rss" "$bin" "${args[@]}" @"$tmp/list$n.txt" || { echo "FAILED: $cmd $n"; fail=1; }
    rss[$n]=$(tail -1 "$tmp/rss")
    echo "$cmd over $n images: peak RSS ${rss[$n]} KB ($((SECONDS - t0)) s)"
  done
  awk -v a="${rss[$n1]}" -v b="${rss[$n2]}" -v c="$cmd" 'BEGIN { d = (b - a) / a * 100;
    printf "%s: RSS %d KB -> %d KB (%+.1f%%)\n", c, a, b, d; exit (d < 10 && d > -10) ? 0 : 1 }' || fail=1
done
exit $fail
