#!/usr/bin/env bash
# bad_inputs.sh - bad files through the commands: each failing image is
# recorded with its reason, the good ones are still written, exit code 2;
# fatal problems (bad landmarks file, truncated model) exit 1 with the file
# named and leave no output file behind, not even a half-written one.
set -u
bin=${XFIQ_BIN:?}; src=${XFIQ_SOURCE_DIR:?}; data=${XFIQ_DATA_DIR:-}
model="$src/models/.cache/fr_feature.onnx"
[ -f "$model" ] || { echo "SKIPPED: default model not fetched ($model)"; exit 77; }
good=$(find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' 2>/dev/null | sort | head -1)
[ -n "$good" ] || { echo "SKIPPED: real faces absent ($data)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/in"
cp "$good" "$tmp/in/a_good.jpg"
: > "$tmp/in/b_empty.jpg"
echo "not an image" > "$tmp/in/c_text.jpg"
head -c 2000 "$good" > "$tmp/in/d_truncated.jpg"
/usr/bin/python3 - "$tmp/in/e_tiny.png" "$tmp/in/f_big.png" <<'PY'
import struct, sys, zlib
def png(path, w, h):
    raw = b"".join(b"\0" + b"\x80" * (3 * w) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1], 1, 1)      # 1x1: too small for a face
png(sys.argv[2], 200, 150)  # not aligned, no landmarks
PY
fail=0
check() { grep -q -- "$2" "$1" || { echo "FAILED: $1 lacks '$2'"; fail=1; }; }
for cmd in embed plq; do
  "$bin" $cmd -q -m "$model" -o "$tmp/out_$cmd" "$tmp/in" "$tmp/in/missing.jpg" 2> "$tmp/err_$cmd"
  rc=$?
  [ $rc = 2 ] || { echo "FAILED: xfiq $cmd exit $rc, want 2"; cat "$tmp/err_$cmd"; fail=1; }
done
csv="$tmp/out_embed/files.csv"
[ "$(grep -c ',ok,' "$csv")" = 1 ] || { echo "FAILED: want exactly 1 ok row"; cat "$csv"; fail=1; }
[ "$(grep -c ',error,' "$csv")" = 6 ] || { echo "FAILED: want 6 error rows"; cat "$csv"; fail=1; }
check "$csv" "b_empty.jpg.*empty"
check "$csv" "c_text.jpg"
check "$csv" "d_truncated.jpg.*truncated"
check "$csv" "e_tiny.png.*too small"
check "$csv" "f_big.png.*not an aligned"
check "$csv" "missing.jpg.*No such file"
/usr/bin/python3 -c "
import numpy, sys
e = numpy.load('$tmp/out_embed/embeddings.npy'); m = numpy.load('$tmp/out_embed/magnitudes.npy')
sys.exit(0 if e.shape == (1, 512) and m.shape == (1,) else 1)" || { echo "FAILED: embeddings.npy should hold the 1 good face"; fail=1; }
[ "$(grep -c ',ok,' "$tmp/out_plq/plq.csv")" = 1 ] || { echo "FAILED: plq.csv should have 1 ok row"; fail=1; }
[ -f "$tmp/out_plq/maps/000000_a_good_plq.png" ] || { echo "FAILED: the good face's PLQ picture is missing"; fail=1; }
# Fatal: a malformed landmarks file, a truncated model; nothing may be left in the output folders.
printf 'a_good.jpg 1 2 3\n' > "$tmp/bad_landmarks.txt"
"$bin" embed -q -m "$model" -l "$tmp/bad_landmarks.txt" -o "$tmp/out_lm" "$tmp/in" 2> "$tmp/err_lm"
[ $? = 1 ] || { echo "FAILED: bad landmarks file must be fatal"; fail=1; }
check "$tmp/err_lm" "bad_landmarks.txt:1"
head -c 100000 "$model" > "$tmp/trunc.onnx"
"$bin" embed -q -m "$tmp/trunc.onnx" -o "$tmp/out_trunc" "$tmp/in" 2> "$tmp/err_trunc"
[ $? = 1 ] || { echo "FAILED: truncated model must be fatal"; fail=1; }
check "$tmp/err_trunc" "trunc.onnx"
left=$(find "$tmp/out_lm" "$tmp/out_trunc" -type f 2>/dev/null | wc -l)
[ "$left" = 0 ] || { echo "FAILED: $left files left after a fatal error"; fail=1; }
echo "messages:"; sed 's/^/  /' "$tmp/err_lm" "$tmp/err_trunc"; cut -d, -f2,5- "$csv" | sed 's/^/  /'
[ $fail = 0 ] && echo PASSED
exit $fail
