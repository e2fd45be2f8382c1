#!/usr/bin/env bash
# run_python_test.sh BUILD_DIR SOURCE_DIR DATA_DIR PYTHON - installs python/
# offline into a fresh venv (--system-site-packages: Debian's numpy, pip and
# setuptools; --no-build-isolation --no-index) with libxfiq.so bundled
# (XFIQ_LIBRARY at install time), then runs test_xfiq_python.py with that
# venv's python from another folder, XFIQ_LIBRARY unset.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) data=$3 py=${4:-/usr/bin/python3}
venv=$build/python-venv
rm -rf "$venv" "$build/python-work"
"$py" -m venv --system-site-packages "$venv"
tmpsrc=$(mktemp -d /tmp/xfiq_pysrc_XXXXXX)
trap 'rm -rf "$tmpsrc"' EXIT
cp -r "$src/python/." "$tmpsrc/"   # build outside the source tree (no build/ or egg-info left there)
rm -rf "$tmpsrc/build" "$tmpsrc"/*.egg-info
XFIQ_LIBRARY=$build/libxfiq.so "$venv/bin/pip" install -q --no-build-isolation --no-index "$tmpsrc" 2>&1 \
  | grep -v -i "beta\|warnings.warn" || true
"$venv/bin/python" -c "import xfiq" || { echo "FAILED: the package does not import"; exit 1; }
cd "$tmpsrc/.." && env -u XFIQ_LIBRARY "$venv/bin/python" "$src/tests/python/test_xfiq_python.py" \
  "$build/xfiq" "$src" "$data" "$build/python-work"
