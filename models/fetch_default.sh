#!/bin/sh
# Fetches xfiq's default face-recognition model (MobileFaceNet, 512-d) and the
# face detector and 68-point landmark networks `--detect` runs (fr_detect.onnx,
# fr_landmark.onnx) from the npm package faceplugin-face-recognition-js@0.0.1
# and places them, with the recognition model's card, in DEST_DIR (default:
# models/.cache). The tarball is checked against the integrity hash pinned in
# SPEC section 8 with our own sha512, not npm's word, and each extracted file
# against its pinned sha256.
# Usage: models/fetch_default.sh [DEST_DIR]
set -eu

PKG="faceplugin-face-recognition-js@0.0.1"
INTEGRITY="sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw=="
# Each file with the sha256 of its extracted form: a second run skips the
# download when all three are already right.
FILES="fr_feature.onnx:87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581
fr_detect.onnx:6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854
fr_landmark.onnx:f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$here/.cache"}
card_src="$here/faceplugin-mobilefacenet.card.json"
card="$dest/fr_feature.card.json"

die() { echo "fetch_default.sh: error: $*" >&2; exit 1; }

for tool in npm openssl tar sha256sum base64; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not installed"
done
[ -f "$card_src" ] || die "model card $card_src is missing"
mkdir -p "$dest" || die "cannot create $dest"

install_card() {
  if ! cmp -s "$card_src" "$card" 2>/dev/null; then
    cp "$card_src" "$card.tmp.$$" || die "cannot write $card.tmp.$$"
    mv -f "$card.tmp.$$" "$card" || die "cannot rename into $card"
  fi
}

missing=0
for entry in $FILES; do
  f=${entry%%:*} want=${entry#*:}
  if [ -f "$dest/$f" ]; then
    have=$(sha256sum "$dest/$f" | cut -d' ' -f1)
    [ "$have" = "$want" ] && continue
    echo "fetch_default.sh: $dest/$f has sha256 $have, expected $want; fetching again" >&2
  fi
  missing=1
done
if [ "$missing" = 0 ]; then
  install_card
  echo "fetch_default.sh: $dest/fr_feature.onnx, fr_detect.onnx, fr_landmark.onnx already present and verified"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xfiq-fetch.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

echo "fetch_default.sh: npm pack $PKG" >&2
(cd "$tmp" && npm pack --silent "$PKG" >pack.log 2>&1) \
  || { cat "$tmp/pack.log" >&2; die "npm pack $PKG failed (is the npm registry reachable?)"; }
tarball=
for f in "$tmp"/*.tgz; do [ -f "$f" ] && tarball=$f && break; done
[ -n "$tarball" ] || die "npm pack produced no tarball"

got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
[ "$got" = "$INTEGRITY" ] || die "integrity mismatch for $PKG:
  expected $INTEGRITY
  got      $got"

for entry in $FILES; do
  f=${entry%%:*} want=${entry#*:} member="package/model/${entry%%:*}"
  tar -xzf "$tarball" -C "$tmp" "$member" || die "$member not found in $tarball"
  have=$(sha256sum "$tmp/$member" | cut -d' ' -f1)
  [ "$have" = "$want" ] || die "extracted $f has sha256 $have, expected $want"
done
for entry in $FILES; do
  f=${entry%%:*}
  # Same folder as the destination so the rename is atomic.
  cp "$tmp/package/model/$f" "$dest/$f.tmp.$$" || die "cannot write into $dest"
  mv -f "$dest/$f.tmp.$$" "$dest/$f" || die "cannot rename into $dest/$f"
done
install_card
echo "fetch_default.sh: wrote $dest/fr_feature.onnx, fr_detect.onnx, fr_landmark.onnx and $card"
