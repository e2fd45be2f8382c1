#!/usr/bin/python3
"""make_bin.py DIR - insightface-style verification .bin files written with
Python's pickle (protocols 2, 3, 4 with bytes payloads; a Python 2 style
stream with str payloads as BINSTRING / SHORT_BINSTRING, checked by loading
it back with pickle), the payloads and labels they hold, and malformed
variants, for tests/eval/test_eval_pickle.c."""
import os
import pickle
import struct
import sys
import zlib

import numpy as np


def png(pixels):
    """Minimal RGB PNG (filter 0 rows, zlib)."""
    h, w, _ = pixels.shape
    raw = b''.join(b'\x00' + pixels[y].tobytes() for y in range(h))

    def chunk(tag, data):
        c = struct.pack('>I', len(data)) + tag + data
        return c + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def py2_pickle(bins, issame):
    """The opcode stream Python 2's cPickle writes for (bins, issame) at
    protocol 2: str -> SHORT_BINSTRING / BINSTRING, memo puts, APPENDS."""
    out = bytearray(b'\x80\x02')
    memo = 0

    def put():
        nonlocal memo
        r = (b'q' + bytes([memo])) if memo < 256 else (b'r' + struct.pack('<I', memo))
        memo += 1
        return r
    out += b']' + put()
    for start in range(0, len(bins), 1000):
        out += b'('
        for b in bins[start:start + 1000]:
            if len(b) < 256:
                out += b'U' + bytes([len(b)]) + b
            else:
                out += b'T' + struct.pack('<i', len(b)) + b
            out += put()
        out += b'e'
    out += b']' + put() + b'('
    for s in issame:
        out += b'\x88' if s else b'\x89'
    out += b'e' + b'\x86' + put() + b'.'
    return bytes(out)


def main(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(5)
    bins, pix = [], []
    for i in range(12):
        if i % 3 == 0:   # flat image: a payload below 256 bytes (SHORT_BINSTRING)
            p = np.full((16, 16, 3), 40 + 10 * i, dtype=np.uint8)
        else:            # noise: above 256 bytes (BINSTRING / BINBYTES)
            p = rng.randint(0, 256, (16 + i, 20, 3)).astype(np.uint8)
        pix.append(p)
        bins.append(png(p))
    issame = [True, False, True, True, False, False]
    with open(os.path.join(d, 'payloads.raw'), 'wb') as f:
        for b in bins:
            f.write(b)
    with open(os.path.join(d, 'payloads.txt'), 'w') as f:
        f.write(' '.join(str(len(b)) for b in bins) + '\n')
        f.write(' '.join(str(int(s)) for s in issame) + '\n')
        f.write(' '.join('%dx%d' % (p.shape[1], p.shape[0]) for p in pix) + '\n')
    with open(os.path.join(d, 'pixels.raw'), 'wb') as f:
        for p in pix:
            f.write(p.tobytes())
    for proto in (2, 3, 4):
        with open(os.path.join(d, 'p%d_bytes.bin' % proto), 'wb') as f:
            pickle.dump((bins, issame), f, protocol=proto)
    # tuple-of-tuples variant (some conversions store tuples)
    with open(os.path.join(d, 'p4_tuple.bin'), 'wb') as f:
        pickle.dump((tuple(bins), tuple(issame)), f, protocol=4)
    raw = py2_pickle(bins, issame)
    back = pickle.loads(raw, encoding='bytes')
    assert back == (bins, issame), 'the Python 2 style stream does not load back'
    with open(os.path.join(d, 'p2_str.bin'), 'wb') as f:
        f.write(raw)
    good = open(os.path.join(d, 'p4_bytes.bin'), 'rb').read()
    open(os.path.join(d, 'bad_truncated.bin'), 'wb').write(good[:len(good) - 100])
    open(os.path.join(d, 'bad_truncated_py2.bin'), 'wb').write(raw[:len(raw) // 2])
    bad = bytearray(raw)
    bad[2] = 0xfe   # the first opcode after PROTO
    open(os.path.join(d, 'bad_opcode.bin'), 'wb').write(bytes(bad))
    open(os.path.join(d, 'bad_empty.bin'), 'wb').write(b'')
    with open(os.path.join(d, 'bad_numpy.bin'), 'wb') as f:
        pickle.dump((bins, np.array(issame)), f, protocol=2)
    with open(os.path.join(d, 'bad_dict.bin'), 'wb') as f:
        pickle.dump({'bins': bins}, f, protocol=4)
    with open(os.path.join(d, 'bad_count.bin'), 'wb') as f:
        pickle.dump((bins[:-1], issame), f, protocol=4)
    with open(os.path.join(d, 'bad_label.bin'), 'wb') as f:
        pickle.dump((bins, [1, 0, 2, 1, 0, 0]), f, protocol=4)


if __name__ == '__main__':
    main(sys.argv[1])
