"""A tiny single-graph denoiser (x, t, y) -> v for the runtime tests of single-graph models.

Not a trained model: fixed seeded weights, v = tanh(W flat(x) + E[y] + t u), reshaped to
[B, 1, 4, 4]. It exercises the manifest contract, hashing and the forecast-the-output path.
Run: /usr/bin/python3 scripts/model/make_toy_single.py
"""
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "runtime", "testdata", "toy-single")
rng = np.random.default_rng(7)
W = (rng.standard_normal((16, 16)) * 0.3).astype(np.float32)
E = (rng.standard_normal((11, 16)) * 0.5).astype(np.float32)
U = (rng.standard_normal((1, 16))).astype(np.float32)

nodes = [
    helper.make_node("Flatten", ["x"], ["xf"], axis=1),
    helper.make_node("MatMul", ["xf", "W"], ["z"]),
    helper.make_node("Gather", ["E", "y"], ["emb"], axis=0),
    helper.make_node("Unsqueeze", ["t", "axis1"], ["tt"]),
    helper.make_node("Mul", ["tt", "U"], ["tz"]),
    helper.make_node("Add", ["z", "emb"], ["s0"]),
    helper.make_node("Add", ["s0", "tz"], ["s1"]),
    helper.make_node("Tanh", ["s1"], ["s"]),
    helper.make_node("Reshape", ["s", "shape"], ["v"]),
]
inits = [
    numpy_helper.from_array(W, "W"),
    numpy_helper.from_array(E, "E"),
    numpy_helper.from_array(U, "U"),
    numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    numpy_helper.from_array(np.array([-1, 1, 4, 4], dtype=np.int64), "shape"),
]
graph = helper.make_graph(
    nodes,
    "toy-single",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 1, 4, 4]),
        helper.make_tensor_value_info("t", TensorProto.FLOAT, ["B"]),
        helper.make_tensor_value_info("y", TensorProto.INT64, ["B"]),
    ],
    [helper.make_tensor_value_info("v", TensorProto.FLOAT, ["B", 1, 4, 4])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="dpcache-edge")
model.ir_version = 8
onnx.checker.check_model(model)
os.makedirs(OUT, exist_ok=True)
data = model.SerializeToString()
with open(os.path.join(OUT, "model.onnx"), "wb") as f:
    f.write(data)
io = lambda n, d, s: {"name": n, "dtype": d, "shape": s}  # noqa: E731
manifest = {
    "id": "toy-single",
    "kind": "single",
    "graphs": {
        "model": {
            "file": "model.onnx",
            "sha256": hashlib.sha256(data).hexdigest(),
            "inputs": [io("x", "float32", ["B", 1, 4, 4]), io("t", "float32", ["B"]), io("y", "int64", ["B"])],
            "outputs": [io("v", "float32", ["B", 1, 4, 4])],
        }
    },
    "image": {"channels": 1, "height": 4, "width": 4, "range": [-1, 1]},
    "classes": 10,
    "nullClass": 10,
    "sigma": {"convention": "rectified-flow", "shift": 1},
    "defaultGuidance": 2,
    "defaultSteps": 10,
    "note": "untrained toy graph for tests: v = tanh(W flat(x) + E[y] + t u)",
}
with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")
print("wrote", OUT, len(data), "bytes")
