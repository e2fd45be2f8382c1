#!/bin/bash
# End to end: LFW folds 1-2 re-cropped off centre (tests/cli/detect_offcentre.py:
# shifted, scaled and padded into 250x250 canvases) and evaluated with
# `xfiq eval --detect` lose at most 0.5 accuracy points against the aligned
# originals (cosine; the folds of the pairs file). Skips without the
# data, the detector models or Pillow.
set -u
BIN=${XFIQ_BIN:?}; SRC=${XFIQ_SOURCE_DIR:?}; DATA=${XFIQ_DATA_DIR:-$SRC/../shared/data}
LFW=$DATA/lfw-folds12
[ -d "$LFW/aligned_112x112" ] || { echo "SKIP: $LFW absent"; exit 77; }
[ -f "$SRC/models/.cache/fr_detect.onnx" ] || { echo "SKIP: detector not fetched (models/fetch_default.sh)"; exit 77; }
/usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null || { echo "SKIP: Pillow/numpy missing"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nice /usr/bin/python3 "$SRC/tests/cli/detect_offcentre.py" "$LFW/aligned_112x112" "$tmp/offc" || exit 1
acc() { # prints the cosine 10-fold accuracy in percent
  "$BIN" eval -q -t 2 --bench "$LFW/pairs_fold01-02.txt" --json "$tmp/$1.json" "${@:2}" > "$tmp/$1.txt" 2> "$tmp/$1.err" \
    || { cat "$tmp/$1.err" >&2; return 1; }
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (100 * d["scores"]["cosine"]["accuracy_mean"]))' "$tmp/$1.json"
}
a=$(acc aligned --root "$LFW/aligned_112x112") || exit 1
b=$(acc detect --root "$tmp/offc" --detect) || exit 1
cat "$tmp/detect.err" >&2
echo "LFW folds 1-2 accuracy: aligned originals $a %, off-centre re-crops with --detect $b %"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; printf "drop %.3f points (limit 0.5)\n", d; exit !(d <= 0.5) }'
