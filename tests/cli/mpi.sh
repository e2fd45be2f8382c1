#!/usr/bin/env bash
# mpi.sh PART - `mpirun -np N xfiq ...` on real faces, N = 1, 2, 3
# (oversubscribed on this machine, one OpenMP thread per rank).
# PART commands: embed, quality, plq and eval give byte for byte the outputs
# of one process; a rank that dies mid-job fails the job with the rank named
# and no output written, and --resume finishes it; eval --detect --no-face
# skip leaves the same pairs out. PART allvsall: the
# all-vs-all evaluation of the 1,583 LFW faces (1,252,153 pairs) spread
# over the ranks is identical to the single-process one.
set -u
part=${1:-commands}
bin=${XFIQ_BIN:?}; src=${XFIQ_SOURCE_DIR:?}; data=${XFIQ_DATA_DIR:-}
model="$src/models/.cache/fr_feature.onnx"
[ -f "$model" ] || { echo "SKIPPED: default model not fetched ($model)"; exit 77; }
lfw="$data/lfw-folds12/aligned_112x112"; orl="$data/orl-faces"
[ -d "$lfw" ] && [ -d "$orl" ] || { echo "SKIPPED: real faces absent ($data)"; exit 77; }
command -v mpirun >/dev/null || { echo "SKIPPED: no mpirun"; exit 77; }
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
M=(mpirun --allow-run-as-root --oversubscribe -x OMP_NUM_THREADS -x OMP_WAIT_POLICY -np)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
find "$lfw" -name '*.jpg' | sort | head -100 > "$tmp/list.txt"
echo /no/such/face.jpg >> "$tmp/list.txt"   # a failing input: its error row must sit where it belongs
head -20 "$tmp/list.txt" > "$tmp/list20.txt"; echo /no/such/face.jpg >> "$tmp/list20.txt"
fail=0
bad() { echo "FAILED: $*"; fail=1; }
same() { # same DIR_A DIR_B FILE...
  local a=$1 b=$2; shift 2
  for f in "$@"; do cmp -s "$a/$f" "$b/$f" || bad "$b/$f differs from $a/$f"; done
}
"$bin" --version | grep -q "^MPI: Open MPI" || bad "--version does not name the MPI built in"
noemb() { grep -v '^embeddings \|"embeddings"' "$1"; } # that line holds the time taken

if [ "$part" = allvsall ]; then
  "${M[@]}" 2 "$bin" embed -q -t 1 -o "$tmp/lfw" "$lfw" 2>/dev/null
  V=(eval -q --bench "$lfw" --embeddings "$tmp/lfw/embeddings.npy" --names "$tmp/lfw/files.csv")
  "$bin" "${V[@]}" --json "$tmp/lfw1.json" > "$tmp/lfw1.txt" || bad "eval LFW all-vs-all"
  grep -q "1252153 pairs" "$tmp/lfw1.txt" || bad "LFW all-vs-all is not 1,252,153 pairs"
  for n in 2 3; do
    "${M[@]}" $n "$bin" "${V[@]}" --json "$tmp/lfw$n.json" > "$tmp/lfw$n.txt" 2>/dev/null
    cmp -s "$tmp/lfw1.txt" "$tmp/lfw$n.txt" || { bad "eval LFW all-vs-all -np $n: table differs"; diff "$tmp/lfw1.txt" "$tmp/lfw$n.txt"; }
    cmp -s "$tmp/lfw1.json" "$tmp/lfw$n.json" || bad "eval LFW all-vs-all -np $n: JSON differs"
  done
  [ $fail = 0 ] && echo "PASSED: LFW all-vs-all (1,252,153 pairs) identical for -np 1/2/3" && cat "$tmp/lfw3.txt"
  exit $fail
fi

E=(embed -q -b 16 -t 1)
"$bin" "${E[@]}" -o "$tmp/e_ref" @"$tmp/list.txt"; [ $? = 2 ] || bad "reference embed: exit code"
for n in 1 2 3; do
  "${M[@]}" $n "$bin" "${E[@]}" -o "$tmp/e_np$n" @"$tmp/list.txt" 2>"$tmp/err"; rc=$?
  [ $rc = 2 ] || { bad "embed -np $n: exit $rc, want 2 (one failed image)"; cat "$tmp/err"; }
  same "$tmp/e_ref" "$tmp/e_np$n" embeddings.npy magnitudes.npy files.csv
  [ ! -e "$tmp/e_np$n/.xfiq-mpi" ] || bad "embed -np $n: the rank parts were left behind"
done
Q=(quality -q -b 16 -t 1 -T 20)
"$bin" "${Q[@]}" -o "$tmp/q_ref.csv" @"$tmp/list.txt"
for n in 2 3; do
  "${M[@]}" $n "$bin" "${Q[@]}" -o "$tmp/q_np$n.csv" @"$tmp/list.txt" 2>/dev/null
  cmp -s "$tmp/q_ref.csv" "$tmp/q_np$n.csv" || bad "quality -np $n differs"
  [ ! -e "$tmp/q_np$n.csv.xfiq-mpi" ] || bad "quality -np $n: parts left behind"
done
P=(plq -q -b 8 -t 1 -T 10)
"$bin" "${P[@]}" -o "$tmp/p_ref" @"$tmp/list20.txt"
for n in 2 3; do
  "${M[@]}" $n "$bin" "${P[@]}" -o "$tmp/p_np$n" @"$tmp/list20.txt" 2>/dev/null
  diff -r "$tmp/p_ref" "$tmp/p_np$n" >/dev/null || bad "plq -np $n: outputs differ (diff -r)"
  [ "$(ls "$tmp/p_np$n/maps" | wc -l)" = 60 ] || bad "plq -np $n: not 3 files for each of 20 faces"
done

# eval with the embedding split over the ranks: 10 ORL identities (100 faces, 4,950 pairs)
mkdir "$tmp/orl"
for s in 1 2 3 4 5 6 7 8 9 10; do mkdir "$tmp/orl/s$s"; ln -s "$orl/s$s"/* "$tmp/orl/s$s/"; done
orl=$tmp/orl
"$bin" eval -q --bench "$orl" -t 1 --json "$tmp/orl1.json" > "$tmp/orl1.txt" || bad "eval ORL"
for n in 2 3; do
  "${M[@]}" $n "$bin" eval -q --bench "$orl" -t 1 --json "$tmp/orl$n.json" > "$tmp/orl$n.txt" 2>/dev/null
  cmp -s <(noemb "$tmp/orl1.txt") <(noemb "$tmp/orl$n.txt") || bad "eval ORL -np $n: table differs"
  cmp -s <(noemb "$tmp/orl1.json") <(noemb "$tmp/orl$n.json") || bad "eval ORL -np $n: JSON differs"
done
# a rank that dies mid-job: the job fails naming it, nothing final is written; --resume finishes it
XFIQ_MPI_TEST_ABORT=1:2 "${M[@]}" 3 -x XFIQ_MPI_TEST_ABORT "$bin" "${E[@]}" -o "$tmp/kill" @"$tmp/list.txt" \
  >"$tmp/kill.txt" 2>&1; rc=$?
[ $rc != 0 ] || bad "a dead rank: exit 0"
grep -q "rank 1 .*exited on signal 6\|rank 1 aborts" "$tmp/kill.txt" || { bad "a dead rank: not named"; cat "$tmp/kill.txt"; }
[ ! -e "$tmp/kill/embeddings.npy" ] && [ ! -e "$tmp/kill/files.csv" ] || bad "a dead rank: final outputs written"
"${M[@]}" 3 "$bin" "${E[@]}" -o "$tmp/kill" --resume @"$tmp/list.txt" 2>"$tmp/res.txt"
grep -q "resuming after input" "$tmp/res.txt" || bad "--resume did not continue the dead rank's checkpoint"
same "$tmp/e_ref" "$tmp/kill" embeddings.npy magnitudes.npy files.csv
# a rank that fails without dying (its part folder cannot be made): rank 0 names it, nothing is written
mkdir -p "$tmp/fail/.xfiq-mpi"; : > "$tmp/fail/.xfiq-mpi/rank-0002"
"${M[@]}" 3 "$bin" "${E[@]}" -o "$tmp/fail" @"$tmp/list.txt" >"$tmp/fail.txt" 2>&1 && bad "a failing rank: exit 0"
grep -q "rank 2 of 3 failed" "$tmp/fail.txt" || { bad "a failing rank: not named"; cat "$tmp/fail.txt"; }
[ ! -e "$tmp/fail/embeddings.npy" ] || bad "a failing rank: final outputs written"
# commands that would write the same files on every rank are refused
"${M[@]}" 2 "$bin" prepare -o "$tmp/prep" "$lfw" >/dev/null 2>"$tmp/prep.txt" && bad "prepare under mpirun -np 2 accepted"
grep -q "does not split over processes" "$tmp/prep.txt" || bad "prepare: no clear refusal"
# eval --detect with a photo without a face in the last rank's share: every rank knows it (the
# flags are gathered), so --no-face skip leaves the same pairs out and the JSON lists it for -np 2/3
if [ -f "$src/models/.cache/fr_detect.onnx" ]; then
  mkdir -p "$tmp/nf"; f3=$(head -3 "$tmp/list.txt")
  { printf 'P5\n160 120\n255\n'; head -c 19200 /dev/zero | tr '\0' '\200'; } > "$tmp/nf/zz_blank.pgm"
  a=$(echo "$f3" | sed -n 1p); b=$(echo "$f3" | sed -n 2p); c=$(echo "$f3" | sed -n 3p); z=$tmp/nf/zz_blank.pgm
  printf '%s,%s,1,1\n%s,%s,0,1\n%s,%s,1,2\n%s,%s,0,2\n%s,%s,0,1\n%s,%s,0,2\n' "$a" "$b" "$b" "$c" "$a" "$b" "$c" "$a" \
    "$z" "$a" "$z" "$c" > "$tmp/nf/pairs.csv"
  D=(eval -q -t 1 --bench "$tmp/nf/pairs.csv" --detect --no-face skip --folds 2)
  "$bin" "${D[@]}" --json "$tmp/nf/1.json" > "$tmp/nf/1.txt" 2>"$tmp/nf/1.err" || bad "eval --detect --no-face skip"
  grep -q "zz_blank.pgm: no face found (its pairs left out)" "$tmp/nf/1.err" || bad "eval --detect: no error line"
  grep -q '"pairs_left_out":[[:space:]]*2' "$tmp/nf/1.json" || bad "eval --detect: not 2 pairs left out"
  for n in 2 3; do
    "${M[@]}" $n "$bin" "${D[@]}" --json "$tmp/nf/$n.json" > "$tmp/nf/$n.txt" 2>"$tmp/nf/$n.err"
    cmp -s <(noemb "$tmp/nf/1.json") <(noemb "$tmp/nf/$n.json") || bad "eval --detect --no-face skip -np $n: JSON differs"
    [ "$(grep -c 'no face found (its pairs' "$tmp/nf/$n.err")" = 1 ] || bad "eval --detect -np $n: not one error line"
  done
fi
[ $fail = 0 ] && echo "PASSED: embed/quality/plq/eval byte-identical for -np 1/2/3, dead rank + --resume, eval --detect"
exit $fail
