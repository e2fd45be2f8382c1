#!/bin/sh
# Fetches xfiq's default face-recognition model (MobileFaceNet, 512-d) from the
# npm package faceplugin-face-recognition-js@0.0.1 and places it, with its model
# card, in DEST_DIR (default: models/.cache). The tarball is checked against the
# integrity hash pinned in SPEC section 8 with our own sha512, not npm's word.
# Usage: models/fetch_default.sh [DEST_DIR]
set -eu

PKG="faceplugin-face-recognition-js@0.0.1"
INTEGRITY="sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw=="
MEMBER="package/model/fr_feature.onnx"
# sha256 of the extracted fr_feature.onnx: lets a second run skip the download.
MODEL_SHA256="87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$here/.cache"}
card_src="$here/faceplugin-mobilefacenet.card.json"
model="$dest/fr_feature.onnx"
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

if [ -f "$model" ]; then
  have=$(sha256sum "$model" | cut -d' ' -f1)
  if [ "$have" = "$MODEL_SHA256" ]; then
    install_card
    echo "fetch_default.sh: $model already present and verified"
    exit 0
  fi
  echo "fetch_default.sh: $model has sha256 $have, expected $MODEL_SHA256; fetching again" >&2
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

tar -xzf "$tarball" -C "$tmp" "$MEMBER" || die "$MEMBER not found in $tarball"
have=$(sha256sum "$tmp/$MEMBER" | cut -d' ' -f1)
[ "$have" = "$MODEL_SHA256" ] || die "extracted model sha256 $have, expected $MODEL_SHA256"

# Same folder as the destination so the rename is atomic.
cp "$tmp/$MEMBER" "$model.tmp.$$" || die "cannot write into $dest"
mv -f "$model.tmp.$$" "$model" || die "cannot rename into $model"
install_card
echo "fetch_default.sh: wrote $model and $card"
