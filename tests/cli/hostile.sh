#!/usr/bin/env bash
# hostile.sh - the hostile corpus (tests/fuzz/hostile) and other adversarial
# inputs through the commands: each case must fail with exit 1 (fatal) or 2
# (that input recorded as failed), name the file and give the reason, and
# leave no output behind; outputs that would destroy data are refused.
set -u
bin=${XFIQ_BIN:?}; src=${XFIQ_SOURCE_DIR:?}; data=${XFIQ_DATA_DIR:-}
H="$src/tests/fuzz/hostile"
model="$src/models/.cache/fr_feature.onnx"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
# expect RC CMD... ; then each following 'has TEXT' checks the last stderr
expect() {
  local rc=$1; shift
  n=$((n + 1))
  timeout 120 "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" != "$rc" ]; then
    echo "FAILED: exit $got (want $rc): $*"; sed 's/^/    /' "$tmp/err" | head -5; fail=1
  fi
}
has() { grep -qF -- "$1" "$tmp/err" || { echo "FAILED: stderr lacks '$1'"; sed 's/^/    /' "$tmp/err" | head -3; fail=1; }; }
csv_has() { grep -qF -- "$2" "$1" || { echo "FAILED: $1 lacks '$2'"; fail=1; }; }

# ---- ONNX models: xfiq info -m FILE exits 1 naming the file and the reason
onnx_case() { expect 1 "$bin" info -m "$H/onnx/$1"; has "$H/onnx/$1: "; has "$2"; }
onnx_case unnamed_output.onnx "a graph output has no name"
onnx_case deep_nesting.onnx "messages nested more than 32 deep"
onnx_case dilation_int_max.onnx "attribute 'dilations' value 2147483647 is outside [1, 65536]"
onnx_case stride_int64_truncated.onnx "attribute 'strides' value 4294967297 is outside [1, 65536]"
onnx_case group_zero.onnx "attribute 'group' value 0 is outside [1, 65536]"
onnx_case pads_negative.onnx "attribute 'pads' value -5 is outside [0, 65536]"
onnx_case raw_data_odd_length.onnx "tensor 'w' has 433 bytes of raw data but its dims need 108 values of 4 bytes = 432 bytes"
onnx_case huge_dims_no_data.onnx "tensor 'w' has an invalid dimension"
onnx_case zero_dim_weight.onnx "attribute 'weight dims' value 0 is outside [1, 65536]"
onnx_case input_dim_huge.onnx "input 'x': a dimension above 65536"
onnx_case reshape_overflow.onnx "Reshape node 'y': target shape of more than 2^26 values"
onnx_case flatten_negative_axis.onnx "Flatten node 'y': axis -1 would mix the batch into features"
onnx_case empty.onnx "empty file (0 bytes), not an ONNX model"
onnx_case not_protobuf.onnx "not a valid ONNX protobuf"
onnx_case shared_weight_amplification.onnx "the model's constants expand to more than 65 MiB in memory at node 'a"
has "(limit: 8 x the 135392-byte file + 64 MiB; a weight shared by many nodes, or many large tensors?): refused"
onnx_case fuzz_empty_graph_memcpy_null.onnx "graph output 'x' is the graph input: no node computes it"
# a 4 MB file of empty nodes would unpack into ~400 MB of C structs
/usr/bin/python3 -c "
import sys
g = b'\x0a\x00' * 2000000
n = len(g); v = b''
while True:
    b = n & 0x7f; n >>= 7
    v += bytes([b | 0x80]) if n else bytes([b])
    if not n: break
open(sys.argv[1], 'wb').write(b'\x3a' + v + g)" "$tmp/bomb.onnx"
expect 1 "$bin" info -m "$tmp/bomb.onnx"; has "$tmp/bomb.onnx: decoding this"; has "MiB (many empty or tiny messages; refused)"

# ---- pickle .bin: amplification refused, bounded memory
bin_case() { expect 1 "$bin" eval --bench "$H/pickle/$1" --embeddings "$tmp/none.npy"; has "$H/pickle/$1: "; has "$2"; }
bin_case latin1_memo_amplification.bin "converted payloads would exceed the file's size"
bin_case memo_repeat_amplification.bin "the copies would exceed the file's size (memo amplification refused)"
bin_case memo_index_huge.bin "memo index too large"
bin_case binbytes8_huge.bin "truncated (length runs past the end of the file)"

# ---- text protocol files: file:line and reason
expect 1 "$bin" eval --bench "$H/lfw/utf16.txt" --format lfw --embeddings "$tmp/none.npy"
has "$H/lfw/utf16.txt:1: NUL byte in a text file"
expect 1 "$bin" eval --bench "$H/lfw/header_huge.txt" --format lfw --embeddings "$tmp/none.npy"
has "$H/lfw/header_huge.txt: the header announces"
expect 1 "$bin" eval --bench "$H/csv/five_fields.csv" --format csv --embeddings "$tmp/none.npy"
has "$H/csv/five_fields.csv:1: more than 4 fields"
expect 1 "$bin" eval --bench "$H/csv/unterminated_quote.csv" --format csv --embeddings "$tmp/none.npy"
has "$H/csv/unterminated_quote.csv:1: column 1: unterminated quote"
expect 1 "$bin" eval --bench "$src/tests/fuzz/corpus/csv/nofold.csv" --embeddings "$H/npy/shape_overflow.npy"
has "$H/npy/shape_overflow.npy: npy shape is too large"

# ---- cards
expect 1 "$bin" info --card "$H/card/scale_1e400.json"; has "$H/card/scale_1e400.json: input.scale[0] is inf"
expect 1 "$bin" info --card "$H/card/width_fraction.json"; has "input.width must be a positive integer"
/usr/bin/python3 -c "import sys; open(sys.argv[1],'w').write('{\"name\": \"' + 'x' * (1 << 21) + '\"}')" "$tmp/big.card.json"
expect 1 "$bin" info --card "$tmp/big.card.json"; has "$tmp/big.card.json: file of 2097164 bytes is larger than the limit of 1048576"

# ---- special files: refused unless allowed
mkfifo "$tmp/fifo.txt"
expect 1 "$bin" eval --bench "$tmp/fifo.txt" --format lfw --embeddings "$tmp/none.npy"
has "$tmp/fifo.txt: is a FIFO (named pipe), not a regular file: refused"
expect 1 "$bin" info -m /dev/zero; has "/dev/zero: is a character device, not a regular file: refused"
expect 1 "$bin" info --card "$tmp/fifo.txt"; has "$tmp/fifo.txt: is a FIFO"
printf 'A 1 2\nA 1 B 2\n' > "$tmp/pairs_src.txt"
( cat "$tmp/pairs_src.txt" > "$tmp/fifo.txt" & )
expect 1 "$bin" eval --allow-special-inputs --bench "$tmp/fifo.txt" --format lfw --embeddings "$tmp/none.npy"
has "$tmp/none.npy: cannot open"   # the FIFO itself was read

if [ -f "$model" ] && [ -d "$data/lfw-folds12/aligned_112x112" ]; then
  face=$(find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort | head -1)
  # image inputs that are special files: that input fails (exit 2), the rest is written
  expect 2 "$bin" embed -q -o "$tmp/e1" "$face" /dev/zero
  has "/dev/zero: is a character device, not a regular file: refused"
  csv_has "$tmp/e1/files.csv" "1,/dev/zero,-1,,error"

  # ---- image size limit: 2^28 pixels by default, --max-image-pixels on every image command
  expect 2 "$bin" embed -q -o "$tmp/big" "$face" "$H/image/header_400mpix.pgm"
  has "$H/image/header_400mpix.pgm: image of 20000x20000 = 400000000 pixels is too large (limit: 268435456 pixels)"
  csv_has "$tmp/big/files.csv" "1,$H/image/header_400mpix.pgm,-1,,error"
  small="image of 112x112 = 12544 pixels is too large (limit: 12543 pixels)"
  expect 2 "$bin" embed -q --max-image-pixels 12543 -o "$tmp/lim_e" "$face"; has "$face: $small"
  expect 0 "$bin" embed -q --max-image-pixels 12544 -o "$tmp/lim_e2" "$face"
  expect 2 "$bin" quality -q -T 2 --max-image-pixels 12543 -o "$tmp/lim_q.csv" "$face"; has "$face: $small"
  expect 2 "$bin" plq -q -T 2 --max-image-pixels 12543 -o "$tmp/lim_p" "$face"; has "$face: $small"
  expect 2 "$bin" prepare -q --max-image-pixels 12543 -o "$tmp/lim_a" "$face"; has "$face: $small"
  expect 1 "$bin" calibrate -q --max-image-pixels 12543 -o "$tmp/lim_c.json" "$face"; has "$face: $small"
  expect 1 "$bin" embed -q --max-image-pixels 63 -o "$tmp/lim_bad" "$face"
  has "--max-image-pixels needs a pixel count (width x height) in [64, 1073741824], got '63'"
  mkdir -p "$tmp/ids/a" "$tmp/ids/b"
  i=0; for f in $(find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort | head -4); do
    d=a; [ $i -ge 2 ] && d=b; cp "$f" "$tmp/ids/$d/$i.jpg"; i=$((i + 1)); done
  expect 1 "$bin" eval -q --bench "$tmp/ids" --format folders --max-image-pixels 12543; has "$small"

  # ---- outputs that would destroy data
  mkdir -p "$tmp/photos/a/frontal" "$tmp/photos/b/frontal"
  cp "$face" "$tmp/photos/a/frontal/01.jpg"; cp "$face" "$tmp/photos/b/frontal/01.jpg"
  cp "$face" "$tmp/photos/keep.jpg"
  sum0=$(cat "$tmp/photos/keep.jpg" | md5sum)
  expect 1 "$bin" prepare -q -o "$tmp/photos" "$tmp/photos"
  has "output folder $tmp/photos holds input $tmp/photos/"; has "refused"
  [ "$(md5sum < "$tmp/photos/keep.jpg")" = "$sum0" ] || { echo "FAILED: prepare replaced an input"; fail=1; }
  echo keep > "$tmp/target.csv"; ln -s "$tmp/target.csv" "$tmp/link.csv"
  expect 1 "$bin" quality -q -o "$tmp/link.csv" "$face"; has "output $tmp/link.csv is a symbolic link: refused"
  grep -q keep "$tmp/target.csv" || { echo "FAILED: symlink target changed"; fail=1; }
  mkfifo "$tmp/out.fifo"
  expect 1 "$bin" quality -q -o "$tmp/out.fifo" "$face"; has "output $tmp/out.fifo is a FIFO (named pipe): refused"
  expect 1 "$bin" quality -q -o /dev/null "$face"; has "output /dev/null is a character device: refused"
  expect 1 "$bin" quality -q -o "$tmp/photos/keep.jpg" "$tmp/photos/keep.jpg"
  has "output $tmp/photos/keep.jpg is also an input"
  # ---- collisions: CFP-style <id>/frontal/01.jpg twice, stable suffixes, CSV says which went where
  expect 0 "$bin" prepare -q -o "$tmp/aligned" "$tmp/photos/a" "$tmp/photos/b"
  [ "$(ls "$tmp/aligned"/01__*.png | wc -l)" = 2 ] || { echo "FAILED: colliding names not made unique"; ls "$tmp/aligned"; fail=1; }
  for d in a b; do
    out=$(grep -F "$tmp/photos/$d/frontal/01.jpg" "$tmp/aligned/prepare.csv" | cut -d, -f3)
    [ -f "$tmp/aligned/$out" ] || { echo "FAILED: prepare.csv maps $d to missing '$out'"; fail=1; }
  done
  # same input alone gets the same name (stable), and the other one keeps its own
  expect 0 "$bin" prepare -q -o "$tmp/aligned2" "$tmp/photos/b" "$tmp/photos/a"
  cmp -s <(cut -d, -f2,3 "$tmp/aligned/prepare.csv" | sort) <(cut -d, -f2,3 "$tmp/aligned2/prepare.csv" | sort) ||
    { echo "FAILED: suffixes depend on the input order"; fail=1; }

  # ---- a model producing NaN: error for each image, not 'ok'
  /usr/bin/python3 - "$tmp/nan.onnx" <<'PY'
import sys
import numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 112, 112])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
w = numpy_helper.from_array(np.full((8, 3, 3, 3), 0.01, np.float32), "w")
bn = [numpy_helper.from_array(np.full(8, v, np.float32), n) for n, v in (("s", 1), ("b", 0), ("m", 0), ("v", -1))]
fc = numpy_helper.from_array(np.full((16, 8), 0.1, np.float32), "fc")
nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
         helper.make_node("GlobalAveragePool", ["n"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
m = helper.make_model(helper.make_graph(nodes, "nan", [x], [y], initializer=[w, fc] + bn),
                      opset_imports=[helper.make_opsetid("", 13)])
open(sys.argv[1], "wb").write(m.SerializeToString())
PY
  expect 2 "$bin" embed -q -m "$tmp/nan.onnx" -o "$tmp/nan" "$face"
  has "$face: the model's output is not finite (NaN or Inf): no embedding"
  csv_has "$tmp/nan/files.csv" ",-1,,error,"
else
  echo "note: default model or real faces absent: output and NaN cases skipped"
fi
rm -f "$tmp/out.fifo" "$tmp/fifo.txt"
echo "hostile: $n cases"
exit $fail
