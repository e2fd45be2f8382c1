#!/bin/bash
# --detect on the image commands: a folder with a photo holding one face
# off centre, one holding two faces and one with none; prepare writes a crop
# per face (--all-faces), an error row "no face found" for the empty one and
# a landmarks file that -l reads back to the same crops; embed and quality
# give the same error row and go on (exit 2); embed, quality and plq --all-faces
# write one row per face (the same numbers as prepare's crop of each face); eval --detect
# names each image without a face and scores or leaves out its pairs (--no-face).
set -u
BIN=${XFIQ_BIN:?}; SRC=${XFIQ_SOURCE_DIR:?}; DATA=${XFIQ_DATA_DIR:-$SRC/../shared/data}
FACE=$DATA/lfw-folds12/aligned_112x112/Abdullah_Gul/Abdullah_Gul_0001.jpg
[ -f "$FACE" ] || { echo "SKIP: $FACE absent"; exit 77; }
[ -f "$SRC/models/.cache/fr_detect.onnx" ] || { echo "SKIP: detector not fetched (models/fetch_default.sh)"; exit 77; }
/usr/bin/python3 -c 'import PIL' 2>/dev/null || { echo "SKIP: Pillow missing"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
mkdir "$tmp/in"
/usr/bin/python3 - "$FACE" "$tmp/in" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
c = Image.new("RGB", (300, 220), (90, 120, 60)); c.paste(im.resize((150, 150)), (120, 40)); c.save(sys.argv[2] + "/offc.png")
c = Image.new("RGB", (400, 200), (200, 200, 200)); c.paste(im, (20, 40)); c.paste(im.resize((80, 80)), (250, 60))
c.save(sys.argv[2] + "/two.png")
Image.new("RGB", (200, 150), (30, 30, 30)).save(sys.argv[2] + "/blank.png")
PY
"$BIN" prepare -q --detect --all-faces -o "$tmp/p" "$tmp/in" 2> "$tmp/err"; rc=$?
check "prepare --detect exits 2 (one input failed)" '[ $rc = 2 ]'
check "error row: no face found" 'grep -q "blank.png,,error,.*no face found" "$tmp/p/prepare.csv"'
check "one crop per face" '[ -f "$tmp/p/offc.png" ] && [ -f "$tmp/p/two.png" ] && [ -f "$tmp/p/two_face1.png" ] && [ ! -f "$tmp/p/blank.png" ]'
check "landmarks file: 3 faces with scores" '[ $(grep -c "^# score" "$tmp/p/landmarks.txt") = 3 ]'
# The off-centre face: its points near the template's scaled by 150/112 and shifted by (120, 40), mean
# within 6 px (the crop's true points lie 2.8 px from the template's on average in LFW, x 1.34 here).
check "offc landmarks near the truth" '/usr/bin/python3 -c "
import sys
for l in open(sys.argv[1]):
    if \"offc.png\" in l:
        v = [float(t) for t in l.split()[1:]]
tpl = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041]
err = [((v[2*k] - (120 + tpl[2*k] * 150 / 112)) ** 2 + (v[2*k+1] - (40 + tpl[2*k+1] * 150 / 112)) ** 2) ** 0.5 for k in range(5)]
print(\"offc 5-point error px:\", [round(e, 2) for e in err]); sys.exit(int(sum(err) / 5 > 6))
" "$tmp/p/landmarks.txt"'
"$BIN" prepare -q -l "$tmp/p/landmarks.txt" -o "$tmp/p2" "$tmp/in/offc.png" "$tmp/in/two.png" 2>> "$tmp/err"
# Points are written with 2 decimals: the crop may differ by rounding only.
check "-l reads the landmarks file back to the same crop" '/usr/bin/python3 -c "
import sys, numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p), dtype=float) for p in sys.argv[1:3])
print(\"crop mean |diff|: %.3f\" % abs(a - b).mean()); sys.exit(int(abs(a - b).mean() > 1.0))
" "$tmp/p/offc.png" "$tmp/p2/offc.png"'
"$BIN" embed -q --detect -o "$tmp/e" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "embed --detect: exit 2, 2 rows ok, 1 error" '[ $rc = 2 ] && [ $(grep -c ",ok," "$tmp/e/files.csv") = 2 ] && grep -q "no face found" "$tmp/e/files.csv"'
"$BIN" quality -q --central -o "$tmp/q.csv" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "quality --central: exit 2, 2 rows ok" '[ $rc = 2 ] && [ $(grep -c ",ok," "$tmp/q.csv") = 2 ]'
# --all-faces on embed/quality/plq: one row per face with its number, score and box; each face's
# numbers equal those of prepare's crop of that face (lossless PNG, same alignment), and face 1
# (the largest) equals plain --detect's row for that photo.
"$BIN" embed -q --all-faces -o "$tmp/e2" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "embed --all-faces: exit 2, 4 rows (two.png twice), face columns" '[ $rc = 2 ] && [ $(grep -c "two.png,[12]," "$tmp/e2/files.csv") = 2 ] && head -1 "$tmp/e2/files.csv" | grep -q "^index,path,face,det_score,box_x1,box_y1,box_x2,box_y2,row," && grep -q "blank.png,,,,,,,-1,,error,.*no face found" "$tmp/e2/files.csv"'
"$BIN" embed -q -o "$tmp/e4" "$tmp/p/offc.png" "$tmp/p/two.png" "$tmp/p/two_face1.png" 2>> "$tmp/err"
check "embed --all-faces rows equal embeddings of prepare's crops" '/usr/bin/python3 -c "
import sys, csv, numpy as np
a = np.load(sys.argv[1] + \"/embeddings.npy\"); b = np.load(sys.argv[2] + \"/embeddings.npy\"); e = np.load(sys.argv[3] + \"/embeddings.npy\")
rows = {(r[\"path\"].split(\"/\")[-1], r[\"face\"]): int(r[\"row\"]) for r in csv.DictReader(open(sys.argv[1] + \"/files.csv\")) if r[\"status\"] == \"ok\"}
got = np.stack([a[rows[(\"offc.png\", \"1\")]], a[rows[(\"two.png\", \"1\")]], a[rows[(\"two.png\", \"2\")]]])
d = np.abs(got - b).max(); print(\"max |all-faces - prepare crops|: %.3g\" % d)
ok = d < 1e-5 and np.abs(a[rows[(\"two.png\", \"1\")]] - e[1]).max() < 1e-5
sys.exit(0 if ok else 1)
" "$tmp/e2" "$tmp/e4" "$tmp/e"'
"$BIN" quality -q --all-faces -o "$tmp/q2.csv" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "quality --all-faces: exit 2, 3 ok rows, two faces of two.png" '[ $rc = 2 ] && [ $(grep -c ",ok," "$tmp/q2.csv") = 3 ] && grep -q "two.png,2,0\.[0-9]*,[0-9.]*,[0-9.]*,[0-9.]*,[0-9.]*," "$tmp/q2.csv"'
"$BIN" plq -q --all-faces --no-png -o "$tmp/m" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "plq --all-faces: exit 2, 3 ok rows, 3 maps" '[ $rc = 2 ] && [ $(grep -c ",ok," "$tmp/m/plq.csv") = 3 ] && [ $(ls "$tmp/m/maps" | grep -c "npy$") = 3 ]'
"$BIN" quality -q --all-faces --shard 1/2 -o "$tmp/q3.csv" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "--all-faces with --shard refused (exit 1)" '[ $rc = 1 ] && grep -q "all-faces with --shard" "$tmp/err"'
# eval --detect on a CSV benchmark of photos, one without a face: an error line naming it, listed
# in the JSON; resize (default) scores all 6 pairs, --no-face skip leaves its 2 pairs out.
cp "$tmp/in/offc.png" "$tmp/in/two.png" "$tmp/in/blank.png" "$tmp/"
printf 'offc.png,two.png,1,1\ntwo.png,offc.png,0,1\noffc.png,two.png,1,2\ntwo.png,offc.png,0,2\nblank.png,offc.png,0,1\nblank.png,two.png,0,2\n' > "$tmp/pairs.csv"
"$BIN" eval -q --bench "$tmp/pairs.csv" --detect --folds 2 --json "$tmp/r1.json" > /dev/null 2> "$tmp/err_e1"; rc=$?
check "eval --detect: exit 0, error line for blank.png, JSON no_face list, 6 pairs" '[ $rc = 0 ] && grep -q "blank.png: no face found (used resized" "$tmp/err_e1" && /usr/bin/python3 -c "
import json, sys; b = json.load(open(sys.argv[1]))[\"benchmark\"]; sys.exit(0 if [n.split(\"/\")[-1] for n in b[\"no_face\"]] == [\"blank.png\"] and b[\"pairs\"] == 6 and b[\"pairs_left_out\"] == 0 else 1)" "$tmp/r1.json"'
"$BIN" eval -q --bench "$tmp/pairs.csv" --detect --no-face skip --folds 2 --json "$tmp/r2.json" > /dev/null 2> "$tmp/err_e2"; rc=$?
check "eval --detect --no-face skip: 2 pairs left out, 4 scored" '[ $rc = 0 ] && grep -q "blank.png: no face found (its pairs left out)" "$tmp/err_e2" && /usr/bin/python3 -c "
import json, sys; b = json.load(open(sys.argv[1]))[\"benchmark\"]; sys.exit(0 if b[\"pairs\"] == 4 and b[\"pairs_left_out\"] == 2 and b[\"no_face_policy\"] == \"skip\" else 1)" "$tmp/r2.json"'
printf 'path,q\n%s,0.9\n%s,0.2\n%s,0.5\n' "$tmp/offc.png" "$tmp/two.png" "$tmp/blank.png" > "$tmp/q.csv"
"$BIN" edc -q --bench "$tmp/pairs.csv" --detect --no-face skip --quality "$tmp/q.csv:q" > "$tmp/edc.txt" 2> "$tmp/err_e4"; rc=$?
check "edc --detect --no-face skip with a quality CSV: exit 0, 4 pairs" '[ $rc = 0 ] && grep -q "no face found (its pairs left out)" "$tmp/err_e4" && grep -q "4 pairs" "$tmp/edc.txt"'
"$BIN" eval -q --bench "$tmp/pairs.csv" --no-face skip 2> "$tmp/err_e5" > /dev/null; rc=$?
check "eval --no-face without --detect: exit 1" '[ $rc = 1 ] && grep -q "applies to --detect" "$tmp/err_e5"'
"$BIN" eval -q --bench "$tmp/pairs.csv" --detect --no-face drop 2> "$tmp/err_e3" > /dev/null; rc=$?
check "eval --no-face with a bad value: exit 1" '[ $rc = 1 ] && grep -q "resize or skip" "$tmp/err_e3"'
"$BIN" embed -q --detector-dir "$tmp/none" -o "$tmp/e3" "$tmp/in" 2>> "$tmp/err"; rc=$?
check "missing detector models: exit 1 naming the file" '[ $rc = 1 ] && grep -q "$tmp/none/fr_detect.onnx" "$tmp/err"'
exit $fail
