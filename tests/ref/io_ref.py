#!/usr/bin/python3
"""Reference side of tests/test_io.c: numpy writes and checks .npy files,
Python's csv module reads the CSV that xfiq writes.

  io_ref.py make DIR
      npy files written by numpy (good and broken) and DIR/npy.txt:
      `file OK expected.f32 ndim d0 d1 ...` or `file STATUS substring`.
  io_ref.py check-npy FILE NDIM D0 D1 ...
      FILE loads with numpy.load as float32, C order, that shape, values
      v[i] = (i % 1000) * 0.25 - 7, and its header is NPY 1.0 padded to 64.
  io_ref.py check-csv FILE FIELDS NCOLS
      FILE parsed by csv.reader gives rows of NCOLS fields whose
      concatenation equals the NUL-separated fields in FIELDS.
Exit 0 on success, 1 on a mismatch, 77 when numpy is missing.
"""
import csv
import io
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("SKIPPED: numpy is not available to", sys.executable)
    sys.exit(77)


def expected_values(n):
    i = np.arange(n, dtype=np.int64)
    return ((i % 1000) * 0.25 - 7).astype(np.float32)


def make(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    lines = []

    def good(name, arr, save=None):
        path = os.path.join(out, name)
        if save:
            save(path, arr)
        else:
            np.save(path, arr)
        np.ascontiguousarray(arr, dtype="<f4").tofile(os.path.join(out, name + ".f32"))
        lines.append(" ".join([name, "OK", name + ".f32", str(arr.ndim)] + [str(d) for d in arr.shape]))

    def bad(name, data, status, sub):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        lines.append(" ".join([name, status, sub]))

    good("f4_2d.npy", rng.standard_normal((7, 5)).astype(np.float32))
    good("f8_3d.npy", rng.standard_normal((2, 3, 4)))  # converted to float32
    good("f4_1d.npy", rng.standard_normal(11).astype(np.float32))
    good("f4_0d.npy", np.array(3.5, np.float32))
    good("f4_empty.npy", np.zeros((0, 512), np.float32))
    good("f4_fortran_1d.npy", np.asfortranarray(rng.standard_normal((1, 6)).astype(np.float32)))

    def save_v2(path, arr):
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=(2, 0))
    good("f4_v2.npy", rng.standard_normal((3, 2)).astype(np.float32), save_v2)

    def raw(arr, version=None):
        b = io.BytesIO()
        np.lib.format.write_array(b, arr, version=version)
        return b.getvalue()

    a = rng.standard_normal((4, 6)).astype(np.float32)
    full = raw(a)
    bad("fortran.npy", raw(np.asfortranarray(a)), "XFIQ_ERR_UNSUPPORTED", "Fortran")
    bad("int32.npy", raw(np.arange(6, dtype=np.int32)), "XFIQ_ERR_UNSUPPORTED", "'<i4'")
    bad("bigendian.npy", raw(a.astype(">f4")), "XFIQ_ERR_UNSUPPORTED", "'>f4'")
    bad("f2.npy", raw(a.astype(np.float16)), "XFIQ_ERR_UNSUPPORTED", "'<f2'")
    bad("structured.npy", raw(np.zeros(3, dtype=[("x", "<f4"), ("y", "<f4")])),
        "XFIQ_ERR_FORMAT", "structured")
    bad("truncated_data.npy", full[:-10], "XFIQ_ERR_FORMAT", "truncated npy data")
    bad("truncated_header.npy", full[:40], "XFIQ_ERR_FORMAT", "truncated npy header")
    bad("preamble_only.npy", full[:7], "XFIQ_ERR_FORMAT", "truncated npy preamble")
    bad("trailing.npy", full + b"\0\0\0\0", "XFIQ_ERR_FORMAT", "unexpected bytes")
    bad("garbage.npy", bytes(rng.integers(0, 256, 300, dtype=np.uint8)), "XFIQ_ERR_FORMAT", "bad magic")
    bad("text.npy", b"this is not numpy\n", "XFIQ_ERR_FORMAT", "bad magic")
    bad("empty.npy", b"", "XFIQ_ERR_FORMAT", "bad magic")
    broken = full.replace(b"'shape': (4, 6)", b"'shape': [4, 6]")
    bad("badshape.npy", broken, "XFIQ_ERR_FORMAT", "shape is not a tuple")
    broken = full.replace(b"'descr'", b"'dtype'")
    bad("badkey.npy", broken, "XFIQ_ERR_FORMAT", "unexpected key")
    v9 = bytearray(full)
    v9[6] = 9
    bad("version9.npy", bytes(v9), "XFIQ_ERR_UNSUPPORTED", "version 9")
    with open(os.path.join(out, "npy.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("io fixtures written to", out)
    return 0


def check_npy(path, shape):
    with open(path, "rb") as f:
        head = f.read(10)
    if head[:6] != b"\x93NUMPY" or head[6:8] != b"\x01\x00":
        print("bad magic/version", head[:8])
        return 1
    hlen = struct.unpack("<H", head[8:10])[0]
    if (10 + hlen) % 64:
        print("header not padded to 64 bytes:", 10 + hlen)
        return 1
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        hdr_shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    if fortran or dtype != np.dtype("<f4"):
        print("header says fortran=%s dtype=%s" % (fortran, dtype))
        return 1
    arr = np.load(path, allow_pickle=False)
    if arr.dtype != np.float32 or arr.shape != tuple(shape) or hdr_shape != tuple(shape):
        print("got dtype %s shape %s, want float32 %s" % (arr.dtype, arr.shape, tuple(shape)))
        return 1
    want = expected_values(arr.size).reshape(shape)
    if not np.array_equal(arr, want):
        bad = np.argwhere(arr != want)[:3]
        print("values differ at", bad.tolist())
        return 1
    print("numpy reads %s: float32 %s, values match" % (os.path.basename(path), arr.shape))
    return 0


def check_csv(path, fields_path, ncols):
    with open(fields_path, "rb") as f:
        want = f.read().split(b"\0")
    if want and want[-1] == b"":
        want = want[:-1]
    want = [w.decode("utf-8") for w in want]
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    got = [x for r in rows for x in r]
    if any(len(r) != ncols for r in rows):
        print("rows with the wrong number of columns:", [r for r in rows if len(r) != ncols][:3])
        return 1
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                print("field %d: csv module read %r, xfiq wrote %r" % (i, g, w))
                break
        print("fields: got %d, want %d" % (len(got), len(want)))
        return 1
    print("csv module reads %d rows x %d fields as written" % (len(rows), ncols))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "make":
        return make(argv[2])
    if len(argv) >= 4 and argv[1] == "check-npy":
        return check_npy(argv[2], [int(x) for x in argv[4:4 + int(argv[3])]])
    if len(argv) == 5 and argv[1] == "check-csv":
        return check_csv(argv[2], argv[3], int(argv[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
