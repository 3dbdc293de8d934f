/**
 * The committed demo graphs, checked through onnxruntime-web exactly as the service loads
 * them: hashes, reference outputs saved at export time, and the classifier's accuracy.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { uniformMask, StaticMaskPolicy } from '../core/policy.ts'
import { sample, type Denoiser } from '../core/sampler.ts'
import { flowEuler } from '../core/solver.ts'
import { gaussianNoise } from '../core/rng.ts'
import { maxAbsDiff, type Tensor } from '../core/tensor.ts'
import { loadClassifier } from './classifier.ts'
import { loadModel } from './engine.ts'

const root = join(import.meta.dirname, '..', '..', 'models')
const read = async (p: string) => new Uint8Array(await readFile(p))
type Spec = { dtype: string; shape: number[]; data: number[] }
const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'))

/** Largest |got - want| / (abs + rel |want|): <= 1 passes. */
function worst(got: Float32Array, want: Spec, tol: { abs: number; rel: number }): number {
  expect(got.length).toBe(want.data.length)
  let w = 0
  for (let k = 0; k < got.length; k++)
    w = Math.max(w, Math.abs(got[k] - want.data[k]) / (tol.abs + tol.rel * Math.abs(want.data[k])))
  return w
}

/** Runs trunk and head on the export fixture's rows (one sigma per row, as the sampler feeds them). */
async function checkExportFixture(model: Awaited<ReturnType<typeof loadModel>>, fix: any) {
  const inp = fix.trunk.inputs
  const x = { data: Float32Array.from(inp.x.data), dims: inp.x.shape }
  const labels = Int32Array.from(inp.y.data)
  const sigmas: number[] = inp.t.data
  for (let r = 0; r < sigmas.length; r++) {
    const row = { data: x.data.slice(r * 784, (r + 1) * 784), dims: [1, 1, 28, 28] }
    const h = await model.denoiser.trunk(row, sigmas[r], labels.subarray(r, r + 1))
    const hw = fix.trunk.outputs.h
    const rowSize = hw.data.length / sigmas.length
    const wantH = { ...hw, data: hw.data.slice(r * rowSize, (r + 1) * rowSize) }
    expect(worst(h.data, wantH, { abs: 1e-4, rel: 1e-4 })).toBeLessThanOrEqual(1)
    const v = await model.denoiser.head(h, row, sigmas[r], labels.subarray(r, r + 1))
    const vw = fix.head.outputs.v
    const wantV = { ...vw, data: vw.data.slice(r * 784, (r + 1) * 784) }
    expect(worst(v.data, wantV, { abs: 1e-4, rel: 1e-4 })).toBeLessThanOrEqual(1)
  }
}

/** Held-out accuracy of a classifier on models/<heldout>.{json,u8}. */
async function heldOutAccuracy(clf: Awaited<ReturnType<typeof loadClassifier>>, heldout: string) {
  const meta = await json(join(root, `${heldout}.json`))
  const bytes = await read(join(root, meta.file))
  expect(bytes.length).toBe(meta.bytes)
  const images = Float32Array.from(bytes, (k) => 2 * (Math.round((k / 255) * 1000) / 1000) - 1)
  const out = await clf.classify(images, meta.count)
  return out.predicted.filter((p, k) => p === meta.labels[k]).length / meta.count
}

describe('tiny-dit-mnist', async () => {
  const dir = join(root, 'tiny-dit-mnist')
  const model = await loadModel(dir, read)
  const fix = await json(join(dir, 'fixture.json'))

  it('trunk and head reproduce the exported reference outputs within 1e-4', async () => {
    await checkExportFixture(model, fix)
    expect(model.denoiser.featureDims).toEqual([49, 96])
  })

  /** Counts trunk calls and the rows each one carried. */
  const counting = (d: Denoiser) => {
    const calls: number[] = []
    const wrapped: Denoiser = {
      ...d,
      imageDims: d.imageDims,
      featureDims: d.featureDims,
      nullClass: d.nullClass,
      trunk: (x, s, l) => (calls.push(x.dims[0]), d.trunk(x, s, l)),
      head: (h, x, s, l) => d.head(h, x, s, l),
    }
    return { wrapped, calls }
  }
  const base = { steps: 20, classes: [7], seeds: [3], guidance: 3, order: 1 }

  it('a full budget equals plain Euler sampling exactly', async () => {
    const res = await sample(model.denoiser, flowEuler, {
      ...base,
      policy: new StaticMaskPolicy('1'.repeat(20)),
    })
    const sig = flowEuler.sigmas(20)
    let x: Tensor = { data: gaussianNoise(3, 784), dims: [1, 1, 28, 28] }
    for (let i = 0; i < 20; i++) {
      const xx = { data: new Float32Array([...x.data, ...x.data]), dims: [2, 1, 28, 28] }
      const labels = Int32Array.of(7, 10)
      const v = await model.denoiser.head(
        await model.denoiser.trunk(xx, sig[i], labels),
        xx,
        sig[i],
        labels,
      )
      const g = Float32Array.from(
        v.data.subarray(0, 784),
        (c, k) => v.data[784 + k] + 3 * (c - v.data[784 + k]),
      )
      x = flowEuler.step(x, { data: g, dims: [1, 1, 28, 28] }, i, sig)
    }
    expect(Array.from(res.images.data)).toEqual(Array.from(x.data))
  })

  it("runs the trunk once per key step for the whole batch: NFE equals the plan's K", async () => {
    for (const k of [5, 8]) {
      const { wrapped, calls } = counting(model.denoiser)
      const res = await sample(wrapped, flowEuler, {
        ...base,
        classes: [1, 2, 3],
        seeds: [4, 5, 6],
        policy: new StaticMaskPolicy(uniformMask(20, k)),
      })
      expect(calls).toEqual(new Array(k).fill(6)) // 3 images x (cond + uncond) in each call
      expect(res.nfe).toBe(k)
    }
  })

  it('batch of 4 equals 4 single runs; same seed, same image', async () => {
    const policy = () => new StaticMaskPolicy(uniformMask(20, 6))
    const classes = [0, 4, 7, 9]
    const seeds = [10, 11, 12, 13]
    const batch = await sample(model.denoiser, flowEuler, {
      ...base,
      classes,
      seeds,
      policy: policy(),
    })
    for (let b = 0; b < 4; b++) {
      const one = await sample(model.denoiser, flowEuler, {
        ...base,
        classes: [classes[b]],
        seeds: [seeds[b]],
        policy: policy(),
      })
      expect(
        maxAbsDiff(batch.images.data.subarray(b * 784, (b + 1) * 784), one.images.data),
      ).toBeLessThan(1e-4)
      const again = await sample(model.denoiser, flowEuler, {
        ...base,
        classes: [classes[b]],
        seeds: [seeds[b]],
        policy: policy(),
      })
      expect(again.images.data).toEqual(one.images.data)
    }
  })
})

describe('mnist-classifier', async () => {
  const dir = join(root, 'mnist-classifier')
  const clf = await loadClassifier(dir, read)

  it('reproduces its reference logits and features', async () => {
    const fix = await json(join(dir, 'fixture.json'))
    const img = fix.inputs.image
    const out = await clf.classify(Float32Array.from(img.data), img.shape[0])
    expect(worst(out.logits, fix.outputs.logits, fix.tolerance)).toBeLessThanOrEqual(1)
    expect(worst(out.features, fix.outputs.features, fix.tolerance)).toBeLessThanOrEqual(1)
  })

  it('classifies the 1,000 held-out digits with >= 98% accuracy', async () => {
    expect(await heldOutAccuracy(clf, 'mnist-heldout')).toBeGreaterThanOrEqual(0.98)
  })
})

describe('tiny-dit-fashion', async () => {
  const dir = join(root, 'tiny-dit-fashion')
  const model = await loadModel(dir, read)
  const fix = await json(join(dir, 'fixture.json'))
  const m = model.manifest

  it('trunk and head reproduce the exported reference outputs within 1e-4', async () => {
    await checkExportFixture(model, fix)
    expect(model.denoiser.featureDims).toEqual([49, 96])
  })

  it('declares a shift-3 sigma schedule and 28 default steps', () => {
    expect(m.sigma.shift).toBe(3)
    expect(m.defaultSteps).toBe(28)
    // s = [1, .75, .5, .25, 0] -> 3s / (1 + 2s) = [1, 0.9, 0.75, 0.5, 0], by hand
    const got = Array.from(flowEuler.sigmas(4, { shift: m.sigma.shift }))
    ;[1, 0.9, 0.75, 0.5, 0].forEach((want, k) => expect(got[k]).toBeCloseTo(want, 12))
    // the sigmas the export sampled its fixture with are the runtime's, for the default steps
    const sig = Array.from(flowEuler.sigmas(m.defaultSteps, { shift: m.sigma.shift }))
    expect(fix.sampling.sigmas.length).toBe(sig.length)
    fix.sampling.sigmas.forEach((want: number, k: number) => expect(sig[k]).toBeCloseTo(want, 12))
  })

  it("a full 28-step guided run at the manifest's shift reproduces the export's image", async () => {
    const sp = fix.sampling
    const sig = flowEuler.sigmas(m.defaultSteps, { shift: m.sigma.shift })
    const [cls] = sp.classes
    let x: Tensor = { data: Float32Array.from(sp.noise.data), dims: [1, 1, 28, 28] }
    const labels = Int32Array.of(cls, m.nullClass)
    for (let i = 0; i < m.defaultSteps; i++) {
      const xx = { data: new Float32Array([...x.data, ...x.data]), dims: [2, 1, 28, 28] }
      const v = await model.denoiser.head(
        await model.denoiser.trunk(xx, sig[i], labels),
        xx,
        sig[i],
        labels,
      )
      const g = Float32Array.from(
        v.data.subarray(0, 784),
        (c, k) => v.data[784 + k] + sp.guidance * (c - v.data[784 + k]),
      )
      x = flowEuler.step(x, { data: g, dims: [1, 1, 28, 28] }, i, sig)
    }
    expect(worst(x.data, sp.images, { abs: 1e-4, rel: 0 })).toBeLessThanOrEqual(1) // measured 5e-6
    // not vacuous: an unshifted schedule would sample other noise levels
    const lin = flowEuler.sigmas(m.defaultSteps)
    expect(Math.abs(lin[1] - sig[1])).toBeGreaterThan(0.02)
  })
})

describe('fashion-classifier', async () => {
  const dir = join(root, 'fashion-classifier')
  const clf = await loadClassifier(dir, read)

  it('reproduces its reference logits and features', async () => {
    const fix = await json(join(dir, 'fixture.json'))
    const img = fix.inputs.image
    const out = await clf.classify(Float32Array.from(img.data), img.shape[0])
    expect(worst(out.logits, fix.outputs.logits, fix.tolerance)).toBeLessThanOrEqual(1)
    expect(worst(out.features, fix.outputs.features, fix.tolerance)).toBeLessThanOrEqual(1)
  })

  it('classifies the 1,000 held-out Fashion-MNIST test images with >= 90% accuracy', async () => {
    expect(await heldOutAccuracy(clf, 'fashion-heldout')).toBeGreaterThanOrEqual(0.9)
  })
})
