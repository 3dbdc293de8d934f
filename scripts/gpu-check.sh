#!/bin/sh
# The checks that need a GPU, in one go, on a machine with an NVIDIA GPU and this repository:
#   ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci     # fetches onnxruntime-node's CUDA provider
#   sh scripts/gpu-check.sh > gpu-check.log 2>&1
# 1. which GPU and driver; 2. CUDA vs wasm images (REQUIRE_CUDA=1: a skip is a failure);
# 3. WebGPU vs wasm in Deno (on the GPU's Vulkan driver, if it has one);
# 4. bench:speed with every backend side by side, cuda included.
# Paste the tables into docs/benchmarks.md with the GPU and driver line.
set -eu
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

echo "== GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
node -e "console.log(require('onnxruntime-node').listSupportedBackends())"

echo "== CUDA vs wasm"
REQUIRE_CUDA=1 npx vitest run test/gpu/cuda.test.ts

echo "== WebGPU vs wasm (Deno)"
npm run test:webgpu

echo "== bench:speed"
npx tsx scripts/bench-speed.ts --backends wasm,cpu:1,cpu:2,cuda,webgpu --repeats 5 --webgpu-repeats 3
