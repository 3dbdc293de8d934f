"""Compare the weight variants of a checkpoint (ema, ema-corrected, raw) on a few samples:
classifier accuracy and Frechet distance at one guidance.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/model/compare_weights.py [ckpt] [n] [guidance]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402

import export_dit as E  # noqa: E402
from common import split, to_pm1  # noqa: E402


def main():
    ckpt = sys.argv[1] if len(sys.argv) > 1 else os.path.join(E.CKPTS, "dit-last.pt")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    g = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    torch.set_num_threads(2)
    clf = E.load_classifier()
    x, y, _, train, held = split()
    with torch.no_grad():
        real = clf(torch.from_numpy(to_pm1(x[held])).reshape(-1, 1, 28, 28))[1].numpy()
    for w in ["ema", "ema-corrected", "raw"]:
        t0 = time.time()
        m, ck = E.load(ckpt, w)
        imgs, ys = E.gen_set(m, n, g, seed=1000)
        acc, fd, _ = E.score(clf, imgs, ys, real)
        print(f"step {ck['step']} weights {w}: g={g} n={n} acc {acc:.4f} frechet {fd:.3f} ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
