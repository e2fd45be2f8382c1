#!/usr/bin/env bash
# install_deps.sh - installs the Debian packages xfiq needs, only those missing
# (no apt-get update when everything is there already).
set -euo pipefail
# Tools count as present when their command is, whoever installed them
# (node/npm often come from elsewhere than Debian's packages).
declare -A tool_cmd=([cmake]=cmake [make]=make [gcc]=gcc [g++]=g++ [pkg-config]=pkg-config [nodejs]=node [npm]=npm [clang]=clang)
pkgs=(cmake make gcc g++ pkg-config  # g++: the CUDA emulation tests compile the .cu files as C++20
      libopenblas-dev          # CPU GEMM behind every convolution and FC layer
      libprotobuf-c-dev protobuf-c-compiler  # ONNX reader generated from ONNX's own schema
      python3-onnx             # ships onnx.proto (the schema) + reference tests
      libcjson-dev             # model cards and JSON outputs
      libpng-dev               # PNG decoding and the PNG maps and pictures
      libjpeg62-turbo-dev      # JPEG decoding with libjpeg-turbo, as Pillow, OpenCV and insightface decode
      python3-torch python3-numpy python3-sklearn  # independent references in tests and bench peers
      clang libclang-rt-14-dev # libFuzzer targets (tools/fuzz.sh) with ASan + UBSan
      python3-pil              # Pillow: the JPEG/PNG pixel references (exact) and test_png's PNG reader
      python3-matplotlib       # test_png: the colour map reference (RdYlGn)
      python3-pip python3-setuptools python3-venv  # the Python package test: offline pip install into a venv
      libopenmpi-dev openmpi-bin  # optional: `mpirun -np N xfiq ...` over many processes, GPUs and nodes
      nodejs npm)              # model download (npm pack) and the ONNX Runtime peer
missing=()
for p in "${pkgs[@]}"; do
  if [ -n "${tool_cmd[$p]:-}" ] && command -v "${tool_cmd[$p]}" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
