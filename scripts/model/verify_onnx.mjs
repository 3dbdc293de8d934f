// Check the committed ONNX graphs against their fixtures with onnxruntime-web (wasm) in Node,
// and check sha256 in the manifests. No Python needed.
//   node scripts/model/verify_onnx.mjs
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-web'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
ort.env.wasm.numThreads = 1

const tensor = (spec) =>
  spec.dtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(spec.data.map(BigInt)), spec.shape)
    : new ort.Tensor('float32', Float32Array.from(spec.data), spec.shape)

function compare(name, got, want, tol) {
  let worst = 0
  for (let i = 0; i < want.data.length; i++) {
    const d = Math.abs(got.data[i] - want.data[i])
    const lim = tol.abs + tol.rel * Math.abs(want.data[i])
    worst = Math.max(worst, d / lim)
  }
  const ok =
    worst <= 1 && got.data.length === want.data.length && got.dims.join() === want.shape.join()
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} dims ${got.dims} worst err/tol ${worst.toFixed(4)}`)
  if (!ok) process.exitCode = 1
}

async function session(dir, graph) {
  const bytes = readFileSync(join(dir, graph.file))
  const sha = createHash('sha256').update(bytes).digest('hex')
  if (sha !== graph.sha256) {
    console.log(`FAIL sha256 ${graph.file}`)
    process.exitCode = 1
  }
  return ort.InferenceSession.create(bytes)
}

for (const id of ['mnist-classifier', 'fashion-classifier']) {
  const dir = join(root, 'models', id)
  const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  const fix = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8'))
  const s = await session(dir, man.graphs.classifier)
  const out = await s.run({ image: tensor(fix.inputs.image) })
  compare(`${id}.logits`, out.logits, fix.outputs.logits, fix.tolerance)
  compare(`${id}.features`, out.features, fix.outputs.features, fix.tolerance)
}
for (const id of ['tiny-dit-mnist', 'tiny-dit-fashion']) {
  const dir = join(root, 'models', id)
  const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  const fix = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8'))
  const trunk = await session(dir, man.graphs.trunk)
  const head = await session(dir, man.graphs.head)
  const ti = fix.trunk.inputs
  const o1 = await trunk.run({ x: tensor(ti.x), t: tensor(ti.t), y: tensor(ti.y) })
  compare(`${id} trunk.h`, o1.h, fix.trunk.outputs.h, fix.tolerance)
  const o2 = await head.run({ h: tensor(fix.trunk.outputs.h), t: tensor(ti.t), y: tensor(ti.y) })
  compare(`${id} head.v`, o2.v, fix.head.outputs.v, fix.tolerance)
  // batch 5: dynamic batch axis
  const B = 5
  const x = new ort.Tensor('float32', new Float32Array(B * 784).fill(0.1), [B, 1, 28, 28])
  const t = new ort.Tensor('float32', new Float32Array(B).fill(0.5), [B])
  const y = new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 3n, 10n]), [B])
  const h = (await trunk.run({ x, t, y })).h
  const v = (await head.run({ h, t, y })).v
  console.log(`ok   ${id} dynamic batch: h ${h.dims} v ${v.dims}`)
}
