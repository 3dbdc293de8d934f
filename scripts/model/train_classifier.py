"""Train the small classifier (quality metric: class accuracy + Frechet distance on its
penultimate features) on the same training images as the DiT; export models/<classifier>/.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/model/train_classifier.py                     # mnist-classifier
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/model/train_classifier.py --dataset fashion   # fashion-classifier
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import MODELS, Classifier, dataset, split, to_pm1  # noqa: E402

CKPTS = os.path.join(os.path.dirname(__file__), "checkpoints")
R = dict(epochs=int(os.environ.get("EPOCHS", 14)), batch=128, lr=2e-3, weight_decay=1e-4, seed=4321,
         threads=int(os.environ.get("THREADS", 1)), feature_dim=128,
         augment="random affine: rotate +-12 deg, scale 0.9-1.1, translate +-2.5 px (background -1)")
# Fashion-MNIST: 60,000 training images, so fewer epochs; no rotation (garments are upright),
# horizontal flips instead (every class is left-right symmetric in this data set).
RECIPES = {
    "mnist": R,
    "fashion": dict(epochs=int(os.environ.get("EPOCHS", 5)), batch=128, lr=2e-3, weight_decay=1e-4, seed=8642,
                    threads=int(os.environ.get("THREADS", 1)), feature_dim=128,
                    augment="horizontal flip (p 0.5), translate +-2 px (background -1)"),
}
DS = None  # set in main()


def augment_fashion(x, gen):
    B = x.shape[0]
    flip = torch.rand(B, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    tr = (torch.rand(B, 2, generator=gen) * 2 - 1) * (2.0 / 14)
    one, zero = torch.ones(B), torch.zeros(B)
    theta = torch.stack([torch.stack([one, zero, tr[:, 0]], 1), torch.stack([zero, one, tr[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def augment(x, gen):
    B = x.shape[0]
    ang = (torch.rand(B, generator=gen) * 2 - 1) * math.radians(12)
    sc = 0.9 + 0.2 * torch.rand(B, generator=gen)
    tr = (torch.rand(B, 2, generator=gen) * 2 - 1) * (2.5 / 14)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, tr[:, 0]], 1), torch.stack([sin, cos, tr[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def main():
    global DS, OUT, CKPT, R
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="mnist", choices=sorted(RECIPES))
    a = ap.parse_args()
    DS = dataset(a.dataset)
    R = RECIPES[a.dataset]
    OUT = os.path.join(MODELS, DS["classifier"])
    CKPT = os.path.join(CKPTS, "classifier.pt" if a.dataset == "mnist" else f"classifier-{a.dataset}.pt")
    aug = augment if a.dataset == "mnist" else augment_fashion
    if os.environ.get("EXPORT_ONLY"):  # re-export from checkpoints/classifier.pt without training
        ck = torch.load(CKPT)
        model = Classifier(ck["recipe"]["feature_dim"])
        model.load_state_dict(ck["model"])
        x, y, _, train, held = split(a.dataset)
        XH = torch.from_numpy(to_pm1(x[held])).reshape(-1, 1, 28, 28)
        return export(model, ck["acc"], ck["seconds"], XH)
    torch.set_num_threads(R["threads"])
    torch.manual_seed(R["seed"])
    gen = torch.Generator().manual_seed(R["seed"])
    x, y, _, train, held = split(a.dataset)
    X = torch.from_numpy(to_pm1(x[train])).reshape(-1, 1, 28, 28)
    Y = torch.from_numpy(y[train])
    XH = torch.from_numpy(to_pm1(x[held])).reshape(-1, 1, 28, 28)
    YH = torch.from_numpy(y[held])
    model = Classifier(R["feature_dim"])
    opt = torch.optim.AdamW(model.parameters(), lr=R["lr"], weight_decay=R["weight_decay"])
    n = len(Y)
    steps_per = n // R["batch"]
    total = R["epochs"] * steps_per
    t0 = time.time()
    step = 0
    for ep in range(R["epochs"]):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for b in range(steps_per):
            idx = perm[b * R["batch"]:(b + 1) * R["batch"]]
            for g in opt.param_groups:
                g["lr"] = R["lr"] * 0.5 * (1 + math.cos(math.pi * step / total))
            logits, _ = model(aug(X[idx], gen))
            loss = F.cross_entropy(logits, Y[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        model.eval()
        with torch.no_grad():
            acc = (model(XH)[0].argmax(1) == YH).float().mean().item()
        print(f"epoch {ep + 1} loss {loss.item():.4f} held-out acc {acc:.4f} {time.time() - t0:.0f}s", flush=True)
    seconds = time.time() - t0
    torch.save(dict(model=model.state_dict(), recipe=R, seconds=seconds, acc=acc), CKPT)
    export(model, acc, seconds, XH)


class Wrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        return self.m(image)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(model, acc, seconds, XH):
    import onnx

    os.makedirs(OUT, exist_ok=True)
    model.eval()
    path = os.path.join(OUT, "classifier.onnx")
    dummy = torch.zeros(2, 1, 28, 28)
    torch.onnx.export(Wrap(model), (dummy,), path, input_names=["image"], output_names=["logits", "features"],
                      dynamic_axes={"image": {0: "B"}, "logits": {0: "B"}, "features": {0: "B"}}, opset_version=17,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    model.eval()  # torch.onnx.export restores the wrapper's (train) mode on exit
    # fixture: 3 held-out digits + 1 noise image
    g = torch.Generator().manual_seed(7)
    imgs = torch.cat([XH[[0, 450, 999]], torch.rand(1, 1, 28, 28, generator=g) * 2 - 1])
    with torch.no_grad():
        lg, ft = model(imgs)
    fix = {
        "description": "Reference outputs of classifier.onnx (torch eval mode) for the TypeScript tests; "
                       f"image[0..2] = held-out {'digits' if DS['name'] == 'mnist' else 'images'} 0, 450, 999 of "
                       f"models/{DS['heldout']}.u8, image[3] = uniform noise",
        "graph": "classifier.onnx",
        "inputs": {"image": {"dtype": "float32", "shape": list(imgs.shape), "data": [round(float(v), 6) for v in imgs.flatten()]}},
        "outputs": {
            "logits": {"dtype": "float32", "shape": list(lg.shape), "data": [float(v) for v in lg.flatten()]},
            "features": {"dtype": "float32", "shape": list(ft.shape), "data": [float(v) for v in ft.flatten()]},
        },
        "tolerance": {"abs": 1e-3, "rel": 1e-3},
    }
    # reference computed on the stored (rounded) input
    ri = torch.tensor(fix["inputs"]["image"]["data"], dtype=torch.float32).reshape(imgs.shape)
    with torch.no_grad():
        lg, ft = model(ri)
    fix["outputs"]["logits"]["data"] = [float(v) for v in lg.flatten()]
    fix["outputs"]["features"]["data"] = [float(v) for v in ft.flatten()]
    with open(os.path.join(OUT, "fixture.json"), "w") as f:
        json.dump(fix, f, separators=(",", ":"))
    manifest = {
        "id": DS["classifier"],
        "kind": "classifier",
        "graphs": {"classifier": {
            "file": "classifier.onnx", "sha256": sha(path),
            "inputs": [{"name": "image", "dtype": "float32", "shape": ["B", 1, 28, 28]}],
            "outputs": [{"name": "logits", "dtype": "float32", "shape": ["B", 10]},
                        {"name": "features", "dtype": "float32", "shape": ["B", R["feature_dim"]]}],
        }},
        "dynamicDim": "B (a string in a shape = dynamic batch dimension)",
        "image": {"channels": 1, "height": 28, "width": 28, "range": [-1, 1]},
        "classes": 10,
        "featureDim": R["feature_dim"],
        "features": "penultimate layer (ReLU of a 128-unit linear layer), used for the Frechet distance",
        "opset": 17,
        "training": dict(R, data=DS["data"], seconds=round(seconds, 1), framework="torch " + torch.__version__),
        "metrics": {"heldOutAccuracy": round(acc, 4), "heldOutCount": int(XH.shape[0])},
    }
    if DS["class_names"]:
        manifest["classNames"] = DS["class_names"]
        manifest["heldOut"] = DS["heldout"]
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("exported", path, os.path.getsize(path), "bytes; acc", acc)


if __name__ == "__main__":
    main()
