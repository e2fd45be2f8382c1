"""case_files.py - what the PyTorch op references (ops_torch_ref.py,
ops_bwd_torch_ref.py) share: torch or exit 77 (the C test then skips), one
output folder of raw little-endian float32 tensors NAME_<key>.bin, and the
cases.txt list written atomically at the end."""
import os
import sys

try:
    import torch
except ImportError as e:  # pragma: no cover
    print("SKIPPED: torch not importable: %s" % e)
    sys.exit(77)


class Cases:
    def __init__(self, out, seed):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        self.out = out
        self.lines = []
        os.makedirs(out, exist_ok=True)

    def save(self, name, key, t):
        path = os.path.join(self.out, "%s_%s.bin" % (name, key))
        t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(path)

    def finish(self):
        tmp = os.path.join(self.out, "cases.txt.tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        os.replace(tmp, os.path.join(self.out, "cases.txt"))
        print("wrote %d cases to %s" % (len(self.lines), self.out))


def uniform(*shape, a=1.0):
    return (torch.rand(*shape, dtype=torch.float32) * 2 - 1) * a
