"""Compare the weight variants of a checkpoint (ema, ema-corrected, raw) on a few samples:
classifier accuracy and Frechet distance at one guidance.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/model/compare_weights.py [ckpt] [n] [guidance] [--dataset fashion]

With --dataset fashion: the fashion checkpoint, classifier and held-out set, and its sampler
(28 steps, shift 3); the variants are ema and raw (its EMA has a warm-up, so no "corrected").
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402

import export_dit as E  # noqa: E402
from common import split, to_pm1  # noqa: E402


def main():
    argv = sys.argv[1:]
    name = "mnist"
    if "--dataset" in argv:
        k = argv.index("--dataset")
        name = argv[k + 1]
        del argv[k:k + 2]
    E.use_dataset(name)
    ckpt = argv[0] if len(argv) > 0 else os.path.join(E.CKPTS, "dit-last.pt")
    n = int(argv[1]) if len(argv) > 1 else 200
    g = float(argv[2]) if len(argv) > 2 else 3.0
    torch.set_num_threads(2 if name == "mnist" else 1)
    clf = E.load_classifier()
    x, y, _, train, held = split(name)
    with torch.no_grad():
        real = clf(torch.from_numpy(to_pm1(x[held])).reshape(-1, 1, 28, 28))[1].numpy()
    for w in (["ema", "ema-corrected", "raw"] if name == "mnist" else ["ema", "raw"]):
        t0 = time.time()
        m, ck = E.load(ckpt, w)
        imgs, ys = E.gen_set(m, n, g, seed=1000)
        acc, fd, _ = E.score(clf, imgs, ys, real)
        print(f"step {ck['step']} weights {w}: g={g} n={n} acc {acc:.4f} frechet {fd:.3f} ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
