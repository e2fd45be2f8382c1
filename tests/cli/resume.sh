#!/usr/bin/env bash
# resume.sh - long jobs: kill -9 at several points of `embed` and `quality`
# over a few hundred real faces, then --resume: the outputs must be byte for
# byte those of an uninterrupted run. Also --shard K/N + `xfiq merge` must
# give exactly the single-run outputs. Kill points are deterministic (the
# XFIQ_CKPT_KILL hook raises SIGKILL at the N-th checkpoint, before or after
# its state is written); one more kill comes from outside at a random time.
set -u
bin=${XFIQ_BIN:?}; src=${XFIQ_SOURCE_DIR:?}; data=${XFIQ_DATA_DIR:-}
model="$src/models/.cache/fr_feature.onnx"
[ -f "$model" ] || { echo "SKIPPED: default model not fetched ($model)"; exit 77; }
[ -d "$data/lfw-folds12/aligned_112x112" ] || { echo "SKIPPED: real faces absent ($data)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
find "$data/lfw-folds12/aligned_112x112" -name '*.jpg' | sort | head -200 > "$tmp/list.txt"
echo /no/such/face.jpg >> "$tmp/list.txt"   # a failing input among them
head -48 "$tmp/list.txt" > "$tmp/list48.txt"
fail=0
same() { # same DIR_A DIR_B FILE...
  local a=$1 b=$2; shift 2
  for f in "$@"; do cmp -s "$a/$f" "$b/$f" || { echo "FAILED: $b/$f differs from $a/$f"; fail=1; }; done
}
E=(embed -q -b 16 -t 2)
"$bin" "${E[@]}" -o "$tmp/ref" @"$tmp/list.txt"; [ $? = 2 ] || { echo "FAILED: reference embed"; fail=1; }
for kills in "3:before" "7:after" "1:after 4:before 3:after"; do
  out="$tmp/k_${kills// /_}"
  for k in $kills; do
    XFIQ_CKPT_KILL=$k "$bin" "${E[@]}" -o "$out" --resume @"$tmp/list.txt"; rc=$?
    [ $rc = 137 ] || { echo "FAILED: kill at $k: exit $rc, want 137 (SIGKILL)"; fail=1; }
    [ ! -e "$out/embeddings.npy" ] || { echo "FAILED: outputs appeared before the job ended"; fail=1; }
  done
  "$bin" "${E[@]}" -o "$out" --resume @"$tmp/list.txt"; rc=$?
  [ $rc = 2 ] || { echo "FAILED: resume after $kills: exit $rc"; fail=1; }
  same "$tmp/ref" "$out" embeddings.npy magnitudes.npy files.csv
  [ ! -e "$out/.xfiq-partial" ] || { echo "FAILED: checkpoint folder left after success"; fail=1; }
done
# a kill from outside, wherever the job is (the result must not depend on when)
"$bin" "${E[@]}" -o "$tmp/ext" @"$tmp/list.txt" & pid=$!
sleep 2; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
"$bin" "${E[@]}" -o "$tmp/ext" --resume @"$tmp/list.txt"
same "$tmp/ref" "$tmp/ext" embeddings.npy magnitudes.npy files.csv
# a checkpoint of another job is not resumed
XFIQ_CKPT_KILL=2:after "$bin" "${E[@]}" -o "$tmp/other" @"$tmp/list.txt"
"$bin" "${E[@]}" -o "$tmp/other" --resume @"$tmp/list48.txt" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q "holds a checkpoint of a different job" "$tmp/err" || { echo "FAILED: foreign checkpoint resumed (exit $rc)"; fail=1; }

# quality (SER-FIQ): fewer faces, same checks
Q=(quality -q -b 16 -t 2 -T 10)
"$bin" "${Q[@]}" -o "$tmp/q_ref.csv" @"$tmp/list48.txt" || { echo "FAILED: reference quality"; fail=1; }
XFIQ_CKPT_KILL=2:before "$bin" "${Q[@]}" -o "$tmp/q.csv" @"$tmp/list48.txt"
"$bin" "${Q[@]}" -o "$tmp/q.csv" --resume @"$tmp/list48.txt"
cmp -s "$tmp/q_ref.csv" "$tmp/q.csv" || { echo "FAILED: resumed quality.csv differs"; fail=1; }

# shards + merge
for k in 1 2 3; do "$bin" "${E[@]}" --shard $k/3 -o "$tmp/s$k" @"$tmp/list.txt"; done
"$bin" merge -o "$tmp/merged" "$tmp/s1" "$tmp/s2" "$tmp/s3" || { echo "FAILED: merge"; fail=1; }
same "$tmp/ref" "$tmp/merged" embeddings.npy magnitudes.npy files.csv
"$bin" merge -o "$tmp/bad" "$tmp/s1" "$tmp/s3" 2>"$tmp/err" && { echo "FAILED: merge with a missing shard succeeded"; fail=1; }
grep -q "shards missing, repeated or out of order" "$tmp/err" || { echo "FAILED: missing-shard message"; fail=1; }
for k in 1 2; do "$bin" "${Q[@]}" --shard $k/2 -o "$tmp/q$k.csv" @"$tmp/list48.txt"; done
"$bin" merge -o "$tmp/qm.csv" "$tmp/q1.csv" "$tmp/q2.csv"
cmp -s "$tmp/q_ref.csv" "$tmp/qm.csv" || { echo "FAILED: merged quality.csv differs"; fail=1; }

# PLQ shards + merge: plq.csv and every file of maps/ byte for byte those of one run
P=(plq -q -b 8 -t 2 -T 4 --zoom 1)
{ head -20 "$tmp/list48.txt"; echo /no/such/face.jpg; sed -n 21,30p "$tmp/list48.txt"; } > "$tmp/listp.txt"
"$bin" "${P[@]}" -o "$tmp/p_ref" @"$tmp/listp.txt"; [ $? = 2 ] || { echo "FAILED: reference plq"; fail=1; }
for k in 1 2 3; do "$bin" "${P[@]}" --shard $k/3 -o "$tmp/p$k" @"$tmp/listp.txt"; done
"$bin" merge -o "$tmp/pm" "$tmp/p1" "$tmp/p2" "$tmp/p3" || { echo "FAILED: plq merge"; fail=1; }
cmp -s "$tmp/p_ref/plq.csv" "$tmp/pm/plq.csv" || { echo "FAILED: merged plq.csv differs"; fail=1; }
[ "$(ls "$tmp/p_ref/maps" | wc -l)" = 90 ] || { echo "FAILED: reference plq wrote $(ls "$tmp/p_ref/maps" | wc -l) map files, want 90"; fail=1; }
diff -r "$tmp/p_ref/maps" "$tmp/pm/maps" >/dev/null || { echo "FAILED: merged maps/ differ from one run's"; fail=1; }
"$bin" merge -o "$tmp/pbad" "$tmp/p1" "$tmp/p3" 2>"$tmp/err" && { echo "FAILED: plq merge with a missing shard succeeded"; fail=1; }
grep -q "shards missing, repeated or out of order" "$tmp/err" || { echo "FAILED: plq missing-shard message"; fail=1; }
[ ! -e "$tmp/pbad/plq.csv" ] && [ -z "$(ls "$tmp/pbad/maps" 2>/dev/null)" ] || { echo "FAILED: a refused merge left outputs"; fail=1; }
cp "$(ls -d "$tmp/p1/maps"/* | head -1)" "$tmp/p3/maps/"
"$bin" merge -o "$tmp/pbad2" "$tmp/p1" "$tmp/p2" "$tmp/p3" 2>"$tmp/err" && { echo "FAILED: plq merge took a stray map"; fail=1; }
grep -q "not a map of this shard's inputs 20..30" "$tmp/err" || { echo "FAILED: stray-map message: $(cat "$tmp/err")"; fail=1; }
"$bin" merge -o "$tmp/pmix" "$tmp/p1" "$tmp/s2" 2>"$tmp/err" && { echo "FAILED: merge of plq and embed shards succeeded"; fail=1; }
grep -q "$tmp/s2/plq.csv: missing" "$tmp/err" || { echo "FAILED: mixed-shard message: $(cat "$tmp/err")"; fail=1; }
# Durability after a power loss (what kill -9 cannot show): in a syscall
# trace every renamed file was fsync'd before its rename, and the folder it
# lands in is fsync'd after it (checkpoint states each batch, the outputs,
# merged PLQ maps). Needs strace (and ptrace allowed); skipped otherwise.
durable() { # durable LOG MIN_RENAMES WHAT
  awk -v min="$2" -v what="$3" '
    / fsync\(/ { if (match($0, /<[^>]*>\)/)) { p = substr($0, RSTART + 1, RLENGTH - 3); synced[p] = 1
                  for (k in pend) if (pend[k] == p) delete pend[k] } next }
    / rename\("/ { split($0, a, "\""); src = a[2]; dst = a[4]; n++
                  if (!(src in synced)) { print "FAILED: " what ": " src " renamed without an fsync"; bad = 1 }
                  delete synced[src]
                  d = dst; sub(/\/[^\/]*$/, "", d); pend[n] = d }
    END { for (k in pend) { print "FAILED: " what ": no fsync of folder " pend[k] " after a rename into it"; bad = 1 }
          if (n < min) { print "FAILED: " what ": " n " renames traced, want >= " min; bad = 1 }
          exit bad }' "$1" || fail=1
}
if strace -f -o /dev/null true 2>/dev/null; then
  strace -f -y -e trace=fsync,rename -o "$tmp/st_e.log" "$bin" "${E[@]}" -o "$tmp/st_e" @"$tmp/list48.txt"
  durable "$tmp/st_e.log" 6 "embed checkpoints and outputs"
  grep -q "rename(\"$tmp/st_e/.xfiq-partial/state.tmp\"" "$tmp/st_e.log" || { echo "FAILED: no checkpoint traced"; fail=1; }
  strace -f -y -e trace=fsync,rename -o "$tmp/st_m.log" "$bin" merge -o "$tmp/st_m" "$tmp/p1" "$tmp/p2" 2>/dev/null
  durable "$tmp/st_m.log" 20 "plq merge"
else
  echo "note: strace absent or not permitted: fsync order not checked"
fi
[ $fail = 0 ] && echo "resume: kill -9 at 6 checkpoints + 1 external, resumed outputs identical; shards merged identical (embed, quality, plq)"
exit $fail
