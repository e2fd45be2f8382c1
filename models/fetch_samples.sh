#!/bin/sh
# Fetches the two sample faces for the demo from Debian packages (SPEC section
# 8) into DEST_DIR (default: models/.cache/samples):
#   astronaut.png    from python3-skimage      (skimage/data/astronaut.png, public domain)
#   grace_hopper.jpg from python-matplotlib-data (sample_data/grace_hopper.jpg)
# Only `apt-get download` + `dpkg-deb -x` are used: nothing is installed.
# Their five landmarks are in models/samples.landmarks.txt.
# Usage: models/fetch_samples.sh [DEST_DIR]
set -eu

# sha256 of the two images as shipped in Debian bookworm (skimage 0.19.3,
# matplotlib 3.6.3): lets a second run skip the download and catches a
# package that changed its picture (the landmarks would no longer fit).
ASTRONAUT_SHA256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"
HOPPER_SHA256="a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$here/.cache/samples"}

die() { echo "fetch_samples.sh: error: $*" >&2; exit 1; }

for tool in apt-get dpkg-deb tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not installed"
done
mkdir -p "$dest" || die "cannot create $dest"

have_ok() { # file sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if have_ok "$dest/astronaut.png" "$ASTRONAUT_SHA256" && have_ok "$dest/grace_hopper.jpg" "$HOPPER_SHA256"; then
  echo "fetch_samples.sh: $dest already holds both sample faces"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xfiq-samples.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

# fetch PACKAGE MEMBER NAME SHA256: one image out of one package.
fetch() {
  pkg=$1 member=$2 name=$3 sum=$4
  if have_ok "$dest/$name" "$sum"; then
    return 0
  fi
  echo "fetch_samples.sh: apt-get download $pkg" >&2
  (cd "$tmp" && apt-get download "$pkg" >"$tmp/$pkg.log" 2>&1) \
    || { cat "$tmp/$pkg.log" >&2; die "apt-get download $pkg failed (run apt-get update?)"; }
  set -- "$tmp/$pkg"_*.deb
  deb=$1
  [ -f "$deb" ] || die "apt-get download $pkg produced no .deb"
  mkdir -p "$tmp/x"
  # Only the one member: the packages are large and hold much else.
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" "./$member" \
    || die "$member not found in $deb"
  got=$(sha256sum "$tmp/x/$member" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || die "$name from $pkg has sha256 $got, expected $sum
  (a new package version may have changed the picture: re-measure models/samples.landmarks.txt)"
  # Same folder as the destination so the rename is atomic.
  cp "$tmp/x/$member" "$dest/$name.tmp.$$" || die "cannot write into $dest"
  mv -f "$dest/$name.tmp.$$" "$dest/$name" || die "cannot rename into $dest/$name"
  rm -f "$deb"
  echo "fetch_samples.sh: wrote $dest/$name" >&2
}

fetch python3-skimage usr/lib/python3/dist-packages/skimage/data/astronaut.png \
  astronaut.png "$ASTRONAUT_SHA256"
fetch python-matplotlib-data usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg \
  grace_hopper.jpg "$HOPPER_SHA256"
echo "fetch_samples.sh: sample faces are in $dest"
