#!/usr/bin/python3
"""Reference fixtures for tests/test_image.c (independent of xfiq's code).

Usage: image_ref.py OUT_DIR [DATA_DIR]

Writes into OUT_DIR:
  decode.txt   `file expected.u8 w h c max_abs_diff max_mean_diff` per image:
               PNGs written here with zlib (all colour types, 8/16 bit, every
               row filter), JPEGs written by Pillow (expected = Pillow/libjpeg
               decode, exactly), real faces from DATA_DIR (ORL PGM, LFW JPEG).
  bad.txt      `file STATUS substring`: files every loader must refuse.
  resize.txt   `src.u8 w h c out_w out_h ref.f64`: PyTorch bilinear
               (align_corners=False) for enlarging, PyTorch average pooling
               for shrinking by whole factors, an overlap matrix for
               fractional shrinking.
  warp.txt     `src.u8 w h c out_w out_h ref.f64 m0..m5`: torch grid_sample
               (bilinear, zeros padding, align_corners=True) at the inverse
               similarity.
  umeyama.txt  src(10) dst(10) m_svd(6) m_lstsq(6) per line: Umeyama's SVD
               algorithm and a plain linear least-squares fit, in numpy.
Exit 77 (skip) when numpy is missing.
"""
import os
import struct
import sys
import zlib

try:
    import numpy as np
except ImportError:
    print("SKIPPED: numpy is not available to", sys.executable)
    sys.exit(77)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None
try:
    from PIL import Image
except ImportError:
    Image = None

RNG = np.random.default_rng(20261127)


# ------------------------------------------------------------------ PNG writer
def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def png_bytes(samples, color_type, bit_depth=8, palette=None):
    """samples: H x W x C uint8/uint16 array of raw samples (indices for palette)."""
    h, w, c = samples.shape
    if bit_depth == 16:
        raw = samples.astype(">u2").view(np.uint8).reshape(h, w * c * 2)
        bpp = 2 * c
    else:
        raw = samples.astype(np.uint8).reshape(h, w * c)
        bpp = c
    raw = raw.astype(np.int32)
    out = bytearray()
    prev = np.zeros(raw.shape[1], np.int32)
    for y in range(h):
        f = y % 5  # every filter type
        cur = raw[y]
        left = np.concatenate([np.zeros(bpp, np.int32), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        if f == 0:
            line = cur
        elif f == 1:
            line = cur - left
        elif f == 2:
            line = cur - prev
        elif f == 3:
            line = cur - (left + prev) // 2
        else:
            line = cur - paeth(left, prev, upleft)
        out.append(f)
        out += (line & 0xFF).astype(np.uint8).tobytes()
        prev = cur
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if palette is not None:
        data += png_chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    data += png_chunk(b"IDAT", zlib.compress(bytes(out), 9)) + png_chunk(b"IEND", b"")
    return data


def png_header_only(w, h):
    """A structurally complete PNG whose IHDR declares w x h (tiny IDAT)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


# ------------------------------------------------------------------ helpers
class Manifest:
    def __init__(self, path):
        self.f = open(path, "w")

    def add(self, *fields):
        self.f.write(" ".join(str(x) for x in fields) + "\n")

    def close(self):
        self.f.close()


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def face_like(h, w, c):
    """Smooth gradients plus noise: compresses like a photo, still exercises every value."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                     ((x + y) * 127 // max(w + h - 2, 1))], -1)[..., :c]
    noise = RNG.integers(-20, 21, size=(h, w, c))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def save_expected(out, name, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    write(out, name, arr.tobytes())
    return arr.shape


# ------------------------------------------------------------------ decode
def make_decode(out, data_dir):
    m = Manifest(os.path.join(out, "decode.txt"))
    h, w = 37, 53
    rgb = face_like(h, w, 3)
    grey = face_like(h, w, 1)
    alpha = RNG.integers(0, 256, size=(h, w, 1), dtype=np.uint8)
    cases = [
        ("rgb8.png", png_bytes(rgb, 2), rgb),
        ("grey8.png", png_bytes(grey, 0), grey),
        ("rgba8.png", png_bytes(np.concatenate([rgb, alpha], -1), 6), rgb),  # alpha dropped
        ("greyalpha8.png", png_bytes(np.concatenate([grey, alpha], -1), 4), grey),
    ]
    rgb16 = RNG.integers(0, 65536, size=(h, w, 3), dtype=np.uint16)
    cases.append(("rgb16.png", png_bytes(rgb16, 2, 16), (rgb16 >> 8).astype(np.uint8)))
    pal = RNG.integers(0, 256, size=(16, 3), dtype=np.uint8)
    idx = RNG.integers(0, 16, size=(h, w, 1), dtype=np.uint8)
    cases.append(("palette.png", png_bytes(idx, 3, 8, pal), pal[idx[..., 0]]))
    small = face_like(8, 8, 3)  # the smallest accepted size
    cases.append(("ok8x8.png", png_bytes(small, 2), small))
    # PGM (P5), as the ORL faces are stored.
    pgm = b"P5\n# comment\n%d %d\n255\n" % (w, h) + grey.tobytes()
    cases.append(("grey.pgm", pgm, grey))
    ppm = b"P6\n%d %d\n255\n" % (w, h) + rgb.tobytes()
    cases.append(("rgb.ppm", ppm, rgb))
    for name, data, expected in cases:
        write(out, name, data)
        eh, ew, ec = save_expected(out, name + ".u8", expected)
        m.add(name, name + ".u8", ew, eh, ec, 0, 0)

    if Image is not None:
        from io import BytesIO
        for name, arr, kw in [
            ("q95_444.jpg", rgb, dict(quality=95, subsampling=0)),
            ("q90_420.jpg", face_like(64, 48, 3), dict(quality=90, subsampling=2)),
            ("grey.jpg", grey[..., 0], dict(quality=92)),
        ]:
            buf = BytesIO()
            Image.fromarray(arr).save(buf, format="JPEG", **kw)
            write(out, name, buf.getvalue())
            dec = np.asarray(Image.open(BytesIO(buf.getvalue())))
            if dec.ndim == 2:
                dec = dec[..., None]
            eh, ew, ec = save_expected(out, name + ".u8", dec)
            # xfiq decodes JPEG with libjpeg-turbo and Pillow's settings: exact.
            m.add(name, name + ".u8", ew, eh, ec, 0, 0)
            if name == "q95_444.jpg":
                # Bytes after the end-of-image marker are common and harmless.
                write(out, "trailing.jpg", buf.getvalue() + b"\x00" * 100)
                m.add("trailing.jpg", name + ".u8", ew, eh, ec, 0, 0)
        # Real faces, decoded by Pillow (libjpeg / its own PGM reader).
        if data_dir:
            real = [os.path.join(data_dir, "orl-faces", "s1", "1.pgm")]
            lfw = os.path.join(data_dir, "lfw-folds12", "aligned_112x112")
            if os.path.isdir(lfw):
                first = sorted(os.listdir(lfw))[0]
                real.append(os.path.join(lfw, first, sorted(os.listdir(os.path.join(lfw, first)))[0]))
            for i, p in enumerate(real):
                if not os.path.isfile(p):
                    continue
                im = Image.open(p)
                dec = np.asarray(im)
                if dec.ndim == 2:
                    dec = dec[..., None]
                eh, ew, ec = save_expected(out, "real%d.u8" % i, dec)
                m.add(p, "real%d.u8" % i, ew, eh, ec, 0, 0)  # exact, JPEG included
    m.close()


def make_bad(out):
    m = Manifest(os.path.join(out, "bad.txt"))
    write(out, "empty.jpg", b"")
    m.add("empty.jpg", "XFIQ_ERR_FORMAT", "empty")
    write(out, "text.jpg", b"hello, this is a text file named like a JPEG\n")
    m.add("text.jpg", "XFIQ_ERR_FORMAT", "not an image")
    m.add("missing.png", "XFIQ_ERR_IO", "No such file")
    one = np.array([[[255, 0, 0]]], np.uint8)
    write(out, "one.png", png_bytes(one, 2))
    m.add("one.png", "XFIQ_ERR_SHAPE", "image too small for a face: 1x1")
    write(out, "thin.png", png_bytes(face_like(20, 7, 1), 0))
    m.add("thin.png", "XFIQ_ERR_SHAPE", "7x20")
    good = png_bytes(face_like(40, 40, 3), 2)
    write(out, "truncated.png", good[: len(good) * 6 // 10])
    m.add("truncated.png", "XFIQ_ERR_FORMAT", "truncated PNG")
    write(out, "noiend.png", good[:-12])
    m.add("noiend.png", "XFIQ_ERR_FORMAT", "no IEND")
    # Complete chunk structure, but IDAT that is not zlib data.
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    corrupt = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
               + png_chunk(b"IDAT", bytes(RNG.integers(0, 256, 64, dtype=np.uint8)))
               + png_chunk(b"IEND", b""))
    write(out, "corrupt.png", corrupt)
    m.add("corrupt.png", "XFIQ_ERR_FORMAT", "corrupt PNG")
    write(out, "huge_side.png", png_header_only(40000, 40000))
    m.add("huge_side.png", "XFIQ_ERR_SHAPE", "32768")
    write(out, "huge_area.png", png_header_only(20000, 20000))
    m.add("huge_area.png", "XFIQ_ERR_SHAPE", "too large")
    write(out, "ascii.pgm", b"P2\n8 8\n255\n" + b"0 " * 64 + b"\n")
    m.add("ascii.pgm", "XFIQ_ERR_UNSUPPORTED", "P2")
    if Image is not None:
        from io import BytesIO
        buf = BytesIO()
        Image.fromarray(face_like(64, 64, 3)).save(buf, format="JPEG", quality=90)
        jpg = buf.getvalue()
        write(out, "truncated.jpg", jpg[: len(jpg) // 2])
        m.add("truncated.jpg", "XFIQ_ERR_FORMAT", "truncated JPEG")
        write(out, "noeoi.jpg", jpg[:-2])
        m.add("noeoi.jpg", "XFIQ_ERR_FORMAT", "truncated JPEG")
        write(out, "headeronly.jpg", jpg[:300])
        m.add("headeronly.jpg", "XFIQ_ERR_FORMAT", "truncated JPEG")
    m.close()


# ------------------------------------------------------------------ resize / warp
def to_t(a):
    return torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[None]


def from_t(t):
    return t[0].permute(1, 2, 0).numpy()


def overlap_matrix(n_in, n_out):
    """A[i, j] = |[i*s, (i+1)*s) & [j, j+1)| / s: exact area weights."""
    s = n_in / n_out
    a = np.arange(n_out)[:, None] * s
    b = np.minimum((np.arange(n_out)[:, None] + 1) * s, n_in)
    j = np.arange(n_in)[None, :]
    return np.clip(np.minimum(b, j + 1) - np.maximum(a, j), 0, None) / s


def make_resize(out):
    m = Manifest(os.path.join(out, "resize.txt"))
    k = 0

    def add(src, ow, oh, ref):
        nonlocal k
        h, w, c = src.shape
        write(out, "rs%d.u8" % k, src.tobytes())
        write(out, "rs%d.f64" % k, np.ascontiguousarray(ref, "<f8").tobytes())
        m.add("rs%d.u8" % k, w, h, c, ow, oh, "rs%d.f64" % k)
        k += 1

    src = RNG.integers(0, 256, size=(29, 37, 3), dtype=np.uint8)
    if torch is not None:
        # Enlarging (bilinear, half-pixel centres).
        add(src, 80, 61, from_t(F.interpolate(to_t(src), size=(61, 80), mode="bilinear",
                                             align_corners=False)))
        g = RNG.integers(0, 256, size=(20, 30, 1), dtype=np.uint8)
        add(g, 31, 45, from_t(F.interpolate(to_t(g), size=(45, 31), mode="bilinear",
                                           align_corners=False)))
        # Shrinking by whole factors: area = average pooling.
        big = RNG.integers(0, 256, size=(96, 120, 3), dtype=np.uint8)
        add(big, 40, 32, from_t(F.avg_pool2d(to_t(big), 3)))
        add(big, 24, 24, from_t(F.avg_pool2d(to_t(big), (4, 5))))
        # Shrink x by 2, enlarge y: pooling along x, then bilinear along y.
        t = F.avg_pool2d(to_t(src[:, :36]), (1, 2))
        add(np.ascontiguousarray(src[:, :36]), 18, 50,
            from_t(F.interpolate(t, size=(50, 18), mode="bilinear", align_corners=False)))
    # Fractional shrinking: exact overlap weights.
    big = RNG.integers(0, 256, size=(100, 77, 3), dtype=np.uint8).astype(np.float64)
    ay, ax = overlap_matrix(100, 37), overlap_matrix(77, 30)
    ref = np.einsum("ij,jkc,lk->ilc", ay, big, ax)
    add(big.astype(np.uint8), 30, 37, ref)
    m.close()


def make_warp(out):
    if torch is None:
        return
    m = Manifest(os.path.join(out, "warp.txt"))
    cases = [
        # (h, w, c, out_w, out_h, angle_deg, scale, tx, ty)
        (48, 64, 3, 40, 40, 20.0, 1.3, -5.0, 3.0),
        (50, 50, 1, 60, 45, -35.0, 0.7, 12.0, 20.0),
        (30, 40, 3, 112, 112, 170.0, 2.4, 90.0, 60.0),
    ]
    for k, (h, w, c, ow, oh, ang, s, tx, ty) in enumerate(cases):
        src = RNG.integers(0, 256, size=(h, w, c), dtype=np.uint8)
        t = np.deg2rad(ang)
        M = np.array([[s * np.cos(t), -s * np.sin(t), tx], [s * np.sin(t), s * np.cos(t), ty]])
        A = np.vstack([M, [0, 0, 1]])
        inv = np.linalg.inv(A)
        ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float64)
        sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
        sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
        grid = np.stack([2 * sx / (w - 1) - 1, 2 * sy / (h - 1) - 1], -1)[None]
        ref = F.grid_sample(to_t(src), torch.from_numpy(grid), mode="bilinear",
                            padding_mode="zeros", align_corners=True)
        write(out, "wp%d.u8" % k, src.tobytes())
        write(out, "wp%d.f64" % k, np.ascontiguousarray(from_t(ref), "<f8").tobytes())
        m.add("wp%d.u8" % k, w, h, c, ow, oh, "wp%d.f64" % k, *["%.17g" % v for v in M.ravel()])
    m.close()


def umeyama_svd(src, dst):
    """Umeyama 1991, eq. 40-43, with scaling (as in scikit-image)."""
    n, d = src.shape
    ms, md = src.mean(0), dst.mean(0)
    sd, dd = src - ms, dst - md
    A = dd.T @ sd / n
    D = np.ones(d)
    if np.linalg.det(A) < 0:
        D[d - 1] = -1
    U, S, Vt = np.linalg.svd(A)
    R = U @ np.diag(D) @ Vt
    scale = (S @ D) / sd.var(0).sum()
    t = md - scale * R @ ms
    return np.hstack([scale * R, t[:, None]])


def lstsq_similarity(src, dst):
    """x' = a x - b y + tx, y' = b x + a y + ty solved as linear least squares."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, -y, 1, 0])
        rhs.append(u)
        rows.append([y, x, 0, 1])
        rhs.append(v)
    a, b, tx, ty = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return np.array([[a, -b, tx], [b, a, ty]])


def make_umeyama(out):
    tpl = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]])
    lines = []
    for k in range(40):
        if k < 20:  # faces: template moved by a random similarity plus noise
            t = RNG.uniform(-np.pi, np.pi)
            s = RNG.uniform(0.3, 6.0)
            R = s * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
            src = tpl @ R.T + RNG.uniform(-300, 300, 2) + RNG.normal(0, 2.0, (5, 2))
            dst = tpl
        else:  # arbitrary point clouds, mirrored ones included
            src = RNG.uniform(-100, 400, (5, 2))
            dst = RNG.uniform(-100, 400, (5, 2))
            if k % 3 == 0:
                dst = src * [-1, 1] + RNG.normal(0, 1.0, (5, 2))
        src = src.astype(np.float32).astype(np.float64)  # what C receives
        dst = dst.astype(np.float32).astype(np.float64)
        m1, m2 = umeyama_svd(src, dst), lstsq_similarity(src, dst)
        lines.append(" ".join("%.17g" % v for v in np.concatenate(
            [src.ravel(), dst.ravel(), m1.ravel(), m2.ravel()])))
    with open(os.path.join(out, "umeyama.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    out = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]) else None
    os.makedirs(out, exist_ok=True)
    make_decode(out, data_dir)
    make_bad(out)
    make_resize(out)
    make_warp(out)
    make_umeyama(out)
    missing = [n for n, mod in (("torch", torch), ("PIL", Image)) if mod is None]
    print("image fixtures written to", out, "(without: %s)" % ", ".join(missing) if missing else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
