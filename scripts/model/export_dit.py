"""Export the EMA DiT as trunk.onnx + head.onnx, write fixture.json, evaluate (guidance sweep,
1,000-sample accuracy + Frechet distance with the shipped classifier), sample grid PNG and
manifest.json under models/<model>/ (tiny-dit-mnist, or tiny-dit-fashion with --dataset fashion).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/model/export_dit.py [--dataset mnist|fashion] [--ckpt PATH]
      [--no-eval] [--sweep 2,3,4,5] [--sweep-n 200] [--n 1000] [--guidance G]

Sampling (evaluation, grid, fixture) uses the dataset's sampler: mnist 50 steps, shift 1;
fashion 28 steps, sigmas shifted with shift 3 (SD3/FLUX form, as src/core/solver.ts).
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from common import MODELS, Classifier, DiT, dataset, split, to_pm1  # noqa: E402

HERE = os.path.dirname(__file__)
OUT = os.path.join(MODELS, "tiny-dit-mnist")
CKPTS = os.path.join(HERE, "checkpoints")
NULL = 10
DS = dataset("mnist")  # replaced by main() / use_dataset()
STEPS, SHIFT = DS["steps"], DS["shift"]


def use_dataset(name):
    """Point the module (output folder, checkpoints, sampler) at one dataset."""
    global DS, OUT, CKPTS, STEPS, SHIFT
    DS = dataset(name)
    OUT = os.path.join(MODELS, DS["model"])
    CKPTS = os.path.join(HERE, "checkpoints", DS["ckpt_subdir"]) if DS["ckpt_subdir"] else os.path.join(HERE, "checkpoints")
    STEPS, SHIFT = DS["steps"], DS["shift"]


def sigmas(steps, shift):
    """N+1 noise levels from 1 to 0: linspace in t, then sigma' = shift t / (1 + (shift-1) t)
    (src/core/solver.ts flowEuler.sigmas). shift 1 keeps the float32 linspace of the first model."""
    if shift == 1:
        return torch.linspace(1.0, 0.0, steps + 1)
    t = np.array([1 - i / steps for i in range(steps + 1)], dtype=np.float64)
    s = shift * t / (1 + (shift - 1) * t)
    s[-1] = 0.0
    return torch.from_numpy(s)


class Trunk(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x, t, y):
        return self.m.trunk(x, t, y)


class Head(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, h, t, y):
        return self.m.head(h, t, y)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load(ckpt, weights="ema"):
    """weights: "ema" (as trained), "ema-corrected" (EMA with the initial weights' share
    decay**steps removed and renormalised, i.e. Adam-style bias correction; the init is rebuilt
    exactly from the seed, as train_dit.py builds it), or "raw" (last optimiser weights, needs
    dit-last.pt)."""
    ck = torch.load(ckpt)
    r = ck["recipe"]
    m = DiT(r["dim"], r["depth"], r["heads"], r["patch"])
    if weights == "ema-corrected" and r.get("ema_warmup"):
        raise SystemExit("ema-corrected assumes a constant decay; this recipe warms its EMA up (use ema)")
    if weights == "raw":
        m.load_state_dict(ck["model"])
    elif weights == "ema-corrected":
        torch.manual_seed(r["seed"])
        init = DiT(r["dim"], r["depth"], r["heads"], r["patch"]).state_dict()
        d = r["ema"] ** ck["step"]
        m.load_state_dict({k: (v - d * init[k]) / (1 - d) for k, v in ck["ema"].items()})
    else:
        m.load_state_dict(ck["ema"])
    m.eval()
    return m, ck


def export_graphs(m):
    import onnx

    os.makedirs(OUT, exist_ok=True)
    B = 2
    x = torch.zeros(B, 1, 28, 28)
    t = torch.full((B,), 0.5)
    y = torch.zeros(B, dtype=torch.int64)
    h = m.trunk(x, t, y)
    paths = {}
    for name, mod, args, ins, outs in [
        ("trunk", Trunk(m), (x, t, y), ["x", "t", "y"], ["h"]),
        ("head", Head(m), (h.detach(), t, y), ["h", "t", "y"], ["v"]),
    ]:
        p = os.path.join(OUT, f"{name}.onnx")
        torch.onnx.export(mod, args, p, input_names=ins, output_names=outs,
                          dynamic_axes={k: {0: "B"} for k in ins + outs}, opset_version=17, do_constant_folding=True)
        onnx.checker.check_model(onnx.load(p))
        m.eval()  # torch.onnx.export restores the wrapper's (train) mode on exit
        paths[name] = p
        print("exported", p, os.path.getsize(p), "bytes", flush=True)
    return paths


def fmt(a, sig):
    return [float(f"{float(v):.{sig}g}") for v in np.asarray(a, dtype=np.float64).flatten()]


def write_fixture(m):
    g = torch.Generator().manual_seed(99)
    x = torch.tensor(fmt(torch.randn(2, 1, 28, 28, generator=g), 5), dtype=torch.float32).reshape(2, 1, 28, 28)
    t = torch.tensor([0.9, 0.3], dtype=torch.float32)
    y = torch.tensor([3, NULL], dtype=torch.int64)
    with torch.no_grad():
        h = m.trunk(x, t, y)
        h_r = torch.tensor(fmt(h, 6), dtype=torch.float32).reshape(h.shape)
        v = m.head(h_r, t, y)  # head reference computed from the stored (rounded) h
    fix = {
        "description": "Reference I/O of trunk.onnx and head.onnx (the exported weights, torch 1.13 eval). "
                       "head.outputs.v is computed from inputs h = trunk.outputs.h exactly as stored here.",
        "trunk": {
            "inputs": {"x": {"dtype": "float32", "shape": [2, 1, 28, 28], "data": fmt(x, 5)},
                       "t": {"dtype": "float32", "shape": [2], "data": [float(v) for v in t]},
                       "y": {"dtype": "int64", "shape": [2], "data": [int(v) for v in y]}},
            "outputs": {"h": {"dtype": "float32", "shape": list(h.shape), "data": fmt(h, 6)}},
        },
        "head": {
            "inputs": {"h": "trunk.outputs.h", "t": "trunk.inputs.t", "y": "trunk.inputs.y"},
            "outputs": {"v": {"dtype": "float32", "shape": list(v.shape), "data": fmt(v, 6)}},
        },
        "tolerance": {"abs": 1e-3, "rel": 1e-3},
    }
    if SHIFT != 1:
        fix["sampling"] = sampling_fixture(m)
    p = os.path.join(OUT, "fixture.json")
    with open(p, "w") as f:
        json.dump(fix, f, separators=(",", ":"))
    print("fixture", os.path.getsize(p), "bytes", flush=True)


def sampling_fixture(m, cls=(7,), guidance=3.0):
    """A full default-steps shifted sampling run from stored noise (one image, guided: two rows
    per trunk call): the TS solver, reading the manifest's shift, must land on the same image."""
    B = len(cls)
    g = torch.Generator().manual_seed(1234)
    noise = torch.tensor(fmt(torch.randn(B, 1, 28, 28, generator=g), 6), dtype=torch.float32).reshape(B, 1, 28, 28)
    y = torch.tensor(list(cls), dtype=torch.int64)
    out = sample(m, y, guidance, noise, steps=STEPS, shift=SHIFT)
    return {
        "what": f"{STEPS}-step Euler, sigmas shift {SHIFT:g} of linspace(1, 0, {STEPS + 1}), CFG v = v_u + g (v_c - v_u), "
                "from the stored noise; images are the final x (not clamped)",
        "steps": STEPS, "shift": SHIFT, "guidance": guidance, "classes": list(cls),
        "sigmas": [float(v) for v in sigmas(STEPS, SHIFT)],
        "noise": {"dtype": "float32", "shape": [B, 1, 28, 28], "data": fmt(noise, 6)},
        "images": {"dtype": "float32", "shape": [B, 1, 28, 28], "data": fmt(out, 6)},
    }


@torch.no_grad()
def sample(m, y, guidance, noise, steps=None, shift=None):
    steps = STEPS if steps is None else steps
    shift = SHIFT if shift is None else shift
    x = noise.clone()
    sig = sigmas(steps, shift)
    B = x.shape[0]
    yy = torch.cat([y, torch.full_like(y, NULL)])
    for i in range(steps):
        t = torch.full((2 * B,), float(sig[i]))
        v2 = m(torch.cat([x, x]), t, yy)
        vc, vu = v2[:B], v2[B:]
        v = vu + guidance * (vc - vu)
        x = x + (sig[i + 1] - sig[i]) * v
        if x.dtype != torch.float32:
            x = x.float()
    return x


def part_range(n, part):
    k, p = part
    return k * n // p, (k + 1) * n // p


def gen_set(m, n, guidance, seed, bs=250, part=(0, 1)):
    """n samples, n/10 per class, noise from one seeded generator; `part` (k, P) samples only
    the k-th of P contiguous slices (same noise per sample as the whole set)."""
    per = n // 10
    y = torch.arange(10).repeat_interleave(per)
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, 1, 28, 28, generator=g)
    lo, hi = part_range(n, part)
    y, noise = y[lo:hi], noise[lo:hi]
    out = [sample(m, y[i:i + bs], guidance, noise[i:i + bs]) for i in range(0, hi - lo, bs)]
    return torch.cat(out), y


def frechet(f1, f2):
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    c1, c2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    w, V = np.linalg.eigh(c1)
    s1 = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    ev = np.linalg.eigvalsh(s1 @ c2 @ s1)
    tr_sqrt = np.sqrt(np.clip(ev, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * tr_sqrt)


def load_classifier():
    name = "classifier.pt" if DS["name"] == "mnist" else f"classifier-{DS['name']}.pt"
    ck = torch.load(os.path.join(HERE, "checkpoints", name))
    c = Classifier(ck["recipe"]["feature_dim"])
    c.load_state_dict(ck["model"])
    c.eval()
    return c


@torch.no_grad()
def score(clf, imgs, y, real_feats):
    logits, feats = clf(imgs.clamp(-1, 1))
    acc = float((logits.argmax(1) == y).float().mean())
    per = [float((logits.argmax(1)[y == d] == d).float().mean()) for d in range(10)]
    return acc, frechet(feats.numpy(), real_feats), per


def score_arrays(pred, feats, y, real_feats):
    acc = float((pred == y).mean())
    per = [float((pred[y == d] == d).mean()) for d in range(10)]
    return acc, frechet(feats, real_feats), per


def write_png(path, img):
    """img: uint8 [H, W] grayscale."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid_png(m, guidance, seeds=8, scale=2, pad=2):
    rows = []
    for d in range(10):
        noise = torch.cat([torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(s)) for s in range(seeds)])
        rows.append(sample(m, torch.full((seeds,), d, dtype=torch.int64), guidance, noise))
    cell = 28 * scale + pad
    img = np.zeros((10 * cell + pad, seeds * cell + pad), dtype=np.uint8)
    for d in range(10):
        for s in range(seeds):
            a = ((rows[d][s, 0].clamp(-1, 1).numpy() + 1) * 127.5).round().astype(np.uint8)
            a = np.kron(a, np.ones((scale, scale), dtype=np.uint8))
            img[pad + d * cell:pad + d * cell + 28 * scale, pad + s * cell:pad + s * cell + 28 * scale] = a
    img[img == 0] = 0
    p = os.path.join(OUT, "samples.png")
    write_png(p, img)
    print("grid", p, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"])
    ap.add_argument("--ckpt", default=None, help="default: <checkpoints>/dit-final.pt")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--sweep", default="2,3,4,5")
    ap.add_argument("--sweep-n", type=int, default=200)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default="ema", choices=["ema", "ema-corrected", "raw"])
    ap.add_argument("--sweep-only", metavar="OUT.json", default=None,
                    help="only run the guidance sweep and write its rows to OUT.json (to split it over processes)")
    ap.add_argument("--sweep-json", metavar="A.json,B.json", default=None,
                    help="take the sweep rows from --sweep-only runs (same checkpoint and weights) instead of sampling")
    ap.add_argument("--skip-export", action="store_true",
                    help="keep the graphs and fixture already in the output folder (their hashes go to the manifest)")
    ap.add_argument("--eval-only", metavar="OUT.npz", default=None,
                    help="only sample part --eval-part of the --n evaluation set at --guidance; save predictions/features")
    ap.add_argument("--eval-part", default="0/1", help="K/P: the K-th of P slices (with --eval-only)")
    ap.add_argument("--eval-parts", metavar="A.npz,B.npz", default=None,
                    help="evaluate from --eval-only files covering the whole set instead of sampling")
    a = ap.parse_args()
    use_dataset(a.dataset)
    a.ckpt = a.ckpt or os.path.join(CKPTS, "dit-final.pt")
    torch.set_num_threads(a.threads)
    m, ck = load(a.ckpt, a.weights)
    r = ck["recipe"]
    if a.sweep_only or a.eval_only or a.skip_export:
        paths = {g: os.path.join(OUT, f"{g}.onnx") for g in ("trunk", "head")}
    else:
        paths = export_graphs(m)
        write_fixture(m)
    metrics, sweep, guidance = None, [], a.guidance or 3.0
    if not a.no_eval:
        clf = load_classifier()
        x, y, _, train, held = split(DS["name"])
        with torch.no_grad():
            real = clf(torch.from_numpy(to_pm1(x[held])).reshape(-1, 1, 28, 28))[1].numpy()
            trainfe = clf(torch.from_numpy(to_pm1(x[train[::9][:1000]])).reshape(-1, 1, 28, 28))[1].numpy()
        ref_fd = frechet(trainfe, real)
        print(f"reference: Frechet(1000 real train images, held-out) = {ref_fd:.3f}", flush=True)
        if a.sweep_json:
            for f in a.sweep_json.split(","):
                with open(f) as fh:
                    part = json.load(fh)
                assert part["ckpt"] == os.path.abspath(a.ckpt) and part["weights"] == a.weights, f"{f}: other weights"
                sweep.extend(part["rows"])
            sweep.sort(key=lambda row: row["guidance"])
            print("sweep from", a.sweep_json, sweep, flush=True)
        for gs in [] if a.sweep_json else [float(s) for s in a.sweep.split(",") if s]:
            t0 = time.time()
            imgs, ys = gen_set(m, a.sweep_n, gs, seed=1000)
            acc, fd, _ = score(clf, imgs, ys, real)
            sweep.append({"guidance": gs, "samples": a.sweep_n, "accuracy": round(acc, 4), "frechet": round(fd, 3)})
            print(f"sweep g={gs} acc {acc:.4f} frechet {fd:.3f} ({time.time() - t0:.0f}s)", flush=True)
        if a.sweep_only:
            with open(a.sweep_only, "w") as fh:
                json.dump({"ckpt": os.path.abspath(a.ckpt), "weights": a.weights, "rows": sweep}, fh)
            print("sweep written", a.sweep_only, flush=True)
            return
        if a.guidance is None and sweep:
            # best accuracy within 0.5% of the max, then lowest Frechet distance
            best = max(s["accuracy"] for s in sweep)
            guidance = min((s for s in sweep if s["accuracy"] >= best - 0.005), key=lambda s: s["frechet"])["guidance"]
        t0 = time.time()
        if a.eval_only:
            part = tuple(int(v) for v in a.eval_part.split("/"))
            lo, hi = part_range(a.n, part)
            imgs, ys = gen_set(m, a.n, guidance, seed=2000, part=part)
            with torch.no_grad():
                logits, feats = clf(imgs.clamp(-1, 1))
            np.savez(a.eval_only, idx=np.arange(lo, hi), pred=logits.argmax(1).numpy(), feats=feats.numpy(),
                     labels=ys.numpy(), guidance=guidance, n=a.n, ckpt=os.path.abspath(a.ckpt), weights=a.weights)
            print(f"eval part {a.eval_part} ({hi - lo} samples) written to {a.eval_only} ({time.time() - t0:.0f}s)", flush=True)
            return
        if a.eval_parts:
            parts = [np.load(f) for f in a.eval_parts.split(",")]
            for f, p_ in zip(a.eval_parts.split(","), parts):
                assert (float(p_["guidance"]) == guidance and int(p_["n"]) == a.n and str(p_["ckpt"]) == os.path.abspath(a.ckpt)
                        and str(p_["weights"]) == a.weights), f"{f}: another evaluation"
            idx = np.concatenate([p_["idx"] for p_ in parts])
            order = np.argsort(idx)
            assert np.array_equal(idx[order], np.arange(a.n)), "parts do not cover the set exactly once"
            cat = lambda k: np.concatenate([p_[k] for p_ in parts])[order]  # noqa: E731
            acc, fd, per = score_arrays(cat("pred"), cat("feats"), cat("labels"), real)
        else:
            imgs, ys = gen_set(m, a.n, guidance, seed=2000)
            acc, fd, per = score(clf, imgs, ys, real)
        print(f"eval g={guidance} n={a.n} acc {acc:.4f} frechet {fd:.3f} per-class {per} ({time.time() - t0:.0f}s)", flush=True)
        if DS["name"] == "mnist":
            sampler = "Euler, sigmas linspace(1, 0, 51), CFG v = v_u + g (v_c - v_u)"
            ref_what = "1,000 real training digits vs the 1,000 held-out digits (floor)"
            feat_what = "mnist-classifier penultimate features (128-d), vs the 1,000 held-out digits"
        else:
            sampler = (f"Euler, sigmas shift {SHIFT:g} of linspace(1, 0, {STEPS + 1}) "
                       f"(sigma' = {SHIFT:g} s / (1 + {SHIFT - 1:g} s)), CFG v = v_u + g (v_c - v_u)")
            ref_what = "1,000 real training images vs the 1,000 held-out images (floor)"
            feat_what = f"{DS['classifier']} penultimate features (128-d), vs the 1,000 held-out images"
        metrics = {"accuracy": round(acc, 4), "frechet": round(fd, 3), "samples": a.n, "guidance": guidance, "steps": STEPS,
                   "sampler": sampler,
                   "perClassAccuracy": [round(p, 3) for p in per],
                   "frechetReference": {"value": round(ref_fd, 3), "what": ref_what},
                   "frechetFeatures": feat_what,
                   "noiseSeed": f"torch.Generator().manual_seed(2000), {a.n // 10} per class", "guidanceSweep": sweep}
        grid_png(m, guidance)
    io = lambda n, d, s: {"name": n, "dtype": d, "shape": s}  # noqa: E731
    D, T = r["dim"], (28 // r["patch"]) ** 2
    manifest = {
        "id": DS["model"],
        "kind": "trunk-head",
        "graphs": {
            "trunk": {"file": "trunk.onnx", "sha256": sha(paths["trunk"]),
                      "inputs": [io("x", "float32", ["B", 1, 28, 28]), io("t", "float32", ["B"]), io("y", "int64", ["B"])],
                      "outputs": [io("h", "float32", ["B", T, D])]},
            "head": {"file": "head.onnx", "sha256": sha(paths["head"]),
                     "inputs": [io("h", "float32", ["B", T, D]), io("t", "float32", ["B"]), io("y", "int64", ["B"])],
                     "outputs": [io("v", "float32", ["B", 1, 28, 28])]},
        },
        "dynamicDim": "B: a string in a shape is a dynamic (batch) dimension; numbers are fixed",
        "opset": 17,
        "image": {"channels": 1, "height": 28, "width": 28, "range": [-1, 1]},
        "classes": 10,
        "nullClass": NULL,
        "feature": {"tokens": T, "hidden": D, "what": "last transformer block's hidden states, before the final norm"},
        "sigma": {"convention": "rectified-flow", "formula": "x = (1-sigma) x0 + sigma eps, v = eps - x0",
                  "input": "t = sigma in [0,1], 1 = pure noise", "shift": 1},
        "defaultGuidance": guidance,
        "defaultSteps": STEPS,
        "training": {"recipe": r, "steps": int(ck["step"]), "seconds": round(float(ck["elapsed"]), 1),
                     "threads": r["threads"], "params": int(sum(p.numel() for p in m.parameters())),
                     "weights": {"ema": "EMA (decay %g%s)" % (r["ema"], ", warm-up min(decay, (1+step)/(10+step))"
                                                               if r.get("ema_warmup") else ""),
                                 "ema-corrected": "EMA (decay %g), bias-corrected: initial weights' share "
                                                  "decay^steps removed and renormalised" % r["ema"],
                                 "raw": "last optimiser weights (no EMA)"}[a.weights], "data": DS["data"],
                     "framework": "torch " + torch.__version__, "hardware": "2 CPU cores"},
        "metrics": metrics,
    }
    if SHIFT != 1:
        manifest["sigma"]["shift"] = SHIFT
        manifest["sigma"]["schedule"] = ("sigma_i = shift s_i / (1 + (shift - 1) s_i), s = linspace(1, 0, N + 1) "
                                         "(SD3/FLUX time shift); the runtime reads `shift`")
    if DS["class_names"]:
        manifest["classNames"] = DS["class_names"]
        manifest["classifier"] = DS["classifier"]
        manifest["heldOut"] = DS["heldout"]
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("manifest written", flush=True)


if __name__ == "__main__":
    main()
