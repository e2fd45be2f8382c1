#!/usr/bin/python3
"""Reference for tests/test_decode_real.c: the LFW JPEGs as Pillow decodes
them (libjpeg-turbo, the decoder of PIL, OpenCV and insightface), and
PyTorch embeddings of the first N of those pixel arrays.

Usage: jpeg_real_ref.py OUT_DIR DATA_DIR MODEL.onnx CARD.json [N_EMBED=200]

Writes OUT_DIR/lfw_list.txt (one path per line, sorted), OUT_DIR/lfw_pil.u8
(the pixels, H x W x 3 each, in list order, every image 112x112) and
OUT_DIR/lfw_ref_emb.npy (N_EMBED x D float32, ref_embed.py in float64 on
Pillow's pixels). Exit 77 (skip) without the data, the model, Pillow or torch.
"""
import os
import subprocess
import sys

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print("SKIPPED: %s (install python3-pil, see tools/install_deps.sh)" % e)
    sys.exit(77)


def main(out, data, model, card, n_embed=200):
    root = os.path.join(data, "lfw-folds12", "aligned_112x112")
    if not os.path.isdir(root):
        print("SKIPPED: no LFW faces in", root)
        return 77
    if not os.path.isfile(model):
        print("SKIPPED: no model", model)
        return 77
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(".jpg"))
    os.makedirs(out, exist_ok=True)
    px = []
    for p in files:
        a = np.asarray(Image.open(p).convert("RGB"))
        assert a.shape == (112, 112, 3), (p, a.shape)
        px.append(a)
    px = np.stack(px)
    px.tofile(os.path.join(out, "lfw_pil.u8"))
    with open(os.path.join(out, "lfw_list.txt"), "w") as f:
        f.write("".join(p + "\n" for p in files))
    faces = os.path.join(out, "lfw_pil_first.npy")
    np.save(faces, px[:n_embed])
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.check_call([sys.executable, os.path.join(here, "ref_embed.py"), model, card, faces,
                           os.path.join(out, "lfw_ref_emb.npy")])
    print("jpeg_real_ref: %d LFW JPEGs decoded by Pillow %s, %d embedded" % (len(files), Image.__version__, n_embed))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:5], *(int(a) for a in sys.argv[5:6])))
