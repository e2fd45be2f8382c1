#!/usr/bin/python3
"""make_lfw_bin.py LFW_DIR OUT.bin - an insightface-style .bin (pickle
protocol 2, as Python 3 writes bytes there) of the first fold of
LFW_DIR/pairs_fold01-02.txt with the aligned JPEG bytes, so the .bin path
(memory decoding) can be compared with the pairs.txt path on real faces."""
import os
import pickle
import sys


def main(lfw, out):
    lines = open(os.path.join(lfw, 'pairs_fold01-02.txt')).read().split('\n')
    n = int(lines[0].split()[1])
    bins, issame = [], []

    def img(name, k):
        p = os.path.join(lfw, 'aligned_112x112', name, '%s_%04d.jpg' % (name, int(k)))
        return open(p, 'rb').read()
    for line in lines[1:1 + 2 * n]:
        t = line.split()
        if len(t) == 3:
            bins += [img(t[0], t[1]), img(t[0], t[2])]
            issame.append(True)
        else:
            bins += [img(t[0], t[1]), img(t[2], t[3])]
            issame.append(False)
    with open(out, 'wb') as f:
        pickle.dump((bins, issame), f, protocol=2)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
