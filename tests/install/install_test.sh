#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR - `cmake --install` into a temporary
# prefix, then a small C program (hello_xfiq.c) is built against it both
# ways: pkg-config (shared, and static with --static) and find_package(xfiq)
# (xfiq::xfiq shared, xfiq::xfiq_static), and each binary runs the default
# model on a real face (or the sample face). Also checks the installed CLI.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d /tmp/xfiq_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
echo "installed into $prefix:"
(cd "$prefix" && find . -type f -o -type l | sort | sed 's/^/  /')
for f in include/xfiq.h include/xfiq_quality.h include/xfiq_image.h include/xfiq_eval.h lib/libxfiq.a \
         lib/libxfiq.so bin/xfiq lib/pkgconfig/xfiq.pc lib/cmake/xfiq/xfiqConfig.cmake \
         share/xfiq/models/faceplugin-mobilefacenet.card.json; do
  [ -e "$prefix/$f" ] || { echo "FAILED: $f not installed"; exit 1; }
done
model=$src/models/.cache/fr_feature.onnx
face=$src/models/.cache/samples/astronaut.png
lfw=${XFIQ_DATA_DIR:-$src/../shared/data}/lfw-folds12/aligned_112x112
[ -d "$lfw" ] && face=$(find "$lfw" -name '*.jpg' | sort | sed -n 1p)
run() { # name binary
  if [ -f "$model" ]; then
    out=$("$2" "$model" "$face") || { echo "FAILED: $1 did not run"; exit 1; }
    echo "  $1: $out"
    case "$out" in *"512-d"*) ;; *) echo "FAILED: $1 output"; exit 1 ;; esac
  else
    echo "  $1: built (no default model to run)"
  fi
}
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc=${CC:-cc}
echo "pkg-config: $(pkg-config --modversion xfiq), cflags '$(pkg-config --cflags xfiq)'"
$cc -std=c11 -o "$tmp/pc_shared" "$src/tests/install/hello_xfiq.c" $(pkg-config --cflags --libs xfiq) \
    -Wl,-rpath,"$prefix/lib"
$cc -std=c11 -o "$tmp/pc_static" "$src/tests/install/hello_xfiq.c" $(pkg-config --cflags xfiq) \
    "$prefix/lib/libxfiq.a" $(pkg-config --static --libs xfiq | sed 's/-lxfiq//')
ldd "$tmp/pc_shared" | grep -q "$prefix/lib/libxfiq.so" || { echo "FAILED: pc_shared does not use the installed libxfiq.so"; exit 1; }
if ldd "$tmp/pc_static" | grep -q libxfiq; then echo "FAILED: pc_static links libxfiq.so"; exit 1; fi
run "pkg-config, shared" "$tmp/pc_shared"
run "pkg-config, static" "$tmp/pc_static"
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_BUILD_RPATH="$prefix/lib" > "$tmp/consumer.log"
cmake --build "$tmp/consumer" >> "$tmp/consumer.log"
ldd "$tmp/consumer/hello_shared" | grep -q "$prefix/lib/libxfiq.so" || { echo "FAILED: hello_shared not on libxfiq.so"; exit 1; }
if ldd "$tmp/consumer/hello_static" | grep -q libxfiq; then echo "FAILED: hello_static links libxfiq.so"; exit 1; fi
run "find_package, xfiq::xfiq" "$tmp/consumer/hello_shared"
run "find_package, xfiq::xfiq_static" "$tmp/consumer/hello_static"
"$prefix/bin/xfiq" info --help > /dev/null || { echo "FAILED: installed xfiq CLI"; exit 1; }
echo "installed CLI: $prefix/bin/xfiq runs"
echo "PASSED"
