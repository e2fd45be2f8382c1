#!/usr/bin/env bash
# rss.sh - memory bounded by the batch, not by the number of images: peak RSS
# of `xfiq embed` and `xfiq quality` over N1 and N2 images (default 2,000 and
# 20,000) must differ by less than 10%. The inputs are folders made in a
# temporary directory from the real aligned LFW faces (lfw-folds12, 1,583
# faces) as hard links or copies under distinct names, so the commands walk a
# folder of N files as users' jobs do; nothing is written into the tree.
# The default model unless XFIQ_RSS_MODEL names another (a tiny model shows
# the growth alone). Minutes of CPU: not part of ctest.
# Usage: XFIQ_BIN=build/xfiq bash bench/rss.sh [N1 N2]
# Env: XFIQ_DATA_DIR (default ../shared/data), XFIQ_RSS_T (SER-FIQ passes;
# default: the command's own), XFIQ_RSS_THREADS (default: all cores),
# XFIQ_RSS_CMDS (default "embed quality").
set -u
bin=${XFIQ_BIN:?set XFIQ_BIN to the xfiq program}
data=${XFIQ_DATA_DIR:-$(dirname "$0")/../../shared/data}
n1=${1:-2000}; n2=${2:-20000}
margs=(); [ -n "${XFIQ_RSS_MODEL:-}" ] && margs+=(-m "$XFIQ_RSS_MODEL")
[ -n "${XFIQ_RSS_THREADS:-}" ] && margs+=(-t "$XFIQ_RSS_THREADS")
targs=(); [ -n "${XFIQ_RSS_T:-}" ] && targs=(-T "$XFIQ_RSS_T")
faces_dir="$data/lfw-folds12/aligned_112x112"
[ -d "$faces_dir" ] || { echo "rss.sh: real faces absent ($faces_dir)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
find "$faces_dir" -name '*.jpg' | sort > "$tmp/faces.txt"
nf=$(wc -l < "$tmp/faces.txt")
# folder of n images: face i mod nf as <i/1000>/<i>.jpg (hard links when the
# file system allows, else copies; one process, not one per file)
make_set() {
  /usr/bin/perl -e 'use File::Copy; my ($n, $d, $list) = @ARGV; open(my $fh, "<", $list) or die;
    chomp(my @f = <$fh>); for my $i (0 .. $n - 1) { my $sub = sprintf("%s/%03d", $d, int($i / 1000));
      mkdir $d; mkdir $sub; my $dst = sprintf("%s/%06d.jpg", $sub, $i); my $src = $f[$i % @f];
      link($src, $dst) or copy($src, $dst) or die "$dst: $!" }' "$1" "$2" "$tmp/faces.txt"
}
for n in $n1 $n2; do make_set "$n" "$tmp/set$n"; done
echo "rss.sh: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), model ${XFIQ_RSS_MODEL:-default}, $nf distinct faces"
fail=0
for cmd in ${XFIQ_RSS_CMDS:-embed quality}; do
  declare -A rss=()
  for n in $n1 $n2; do
    if [ $cmd = embed ]; then out=(-o "$tmp/e$n"); else out=("${targs[@]}" -o "$tmp/q$n.csv"); fi
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$tmp/rss" "$bin" $cmd -q "${margs[@]}" "${out[@]}" "$tmp/set$n" ||
      { echo "FAILED: $cmd over $n images"; fail=1; }
    rss[$n]=$(tail -1 "$tmp/rss")
    rows=$( [ $cmd = embed ] && grep -c ',ok' "$tmp/e$n/files.csv" || grep -c ',ok' "$tmp/q$n.csv")
    printf "%-8s %6d images (%d ok): peak RSS %7d KB, %.0f s\n" $cmd "$n" "$rows" "${rss[$n]}" \
      "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
    rm -rf "$tmp/e$n" "$tmp/q$n.csv"
  done
  awk -v a="${rss[$n1]}" -v b="${rss[$n2]}" -v c="$cmd" -v n1="$n1" -v n2="$n2" 'BEGIN { d = (b - a) / a * 100;
    printf "%-8s %d -> %d images: %.1f MB -> %.1f MB (%+.1f%%, limit 10%%) %s\n", c, n1, n2, a / 1024, b / 1024, d,
      (d < 10 && d > -10) ? "ok" : "FAILED"; exit (d < 10 && d > -10) ? 0 : 1 }' || fail=1
  unset rss
done
exit $fail
