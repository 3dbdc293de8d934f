/**
 * LeMiCa's edge weights (Gao et al., NeurIPS 2025): w(i, j) is the mean L1 error of the final
 * image when only the segment i -> j is cached (the trunk output of key i reused, FORA/LeMiCa
 * style, at steps i+1..j-1) and every other step computes, averaged over calibration seeds.
 *
 * Each edge's run equals the full run up to step i, so it starts from the recorded latent and
 * feature of step i; all edges leaving i advance together as one batch (rows are independent,
 * exactly as in the sampler), and a row joins the trunk calls once it reaches its j.
 */
import type { Denoiser } from '../../src/core/sampler.ts'
import { combineGuidance } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { sizeOf, type Tensor } from '../../src/core/tensor.ts'
import type { Calibration } from './calibrate.ts'

export interface LemicaSetup {
  steps: number
  classes: readonly number[]
  guidance: number
  shift: number
  /** longest cached edge j - i (LeMiCa caps it too); longer edges get +Infinity */
  cap: number
  onProgress?: (done: number, total: number) => void
}

/** Weights as a row-major [N][N+1] array: w[i * (N + 1) + j]. */
export async function lemicaWeights(
  denoiser: Denoiser,
  cal: Calibration,
  setup: LemicaSetup,
): Promise<Float64Array> {
  const n = setup.steps
  const seeds = cal.images.length
  const imageSize = sizeOf(denoiser.imageDims)
  const featSize = sizeOf(denoiser.featureDims)
  const guided = setup.guidance !== 1
  const sigmas = flowEuler.sigmas(n, { shift: setup.shift })
  const w = new Float64Array(n * (n + 1)).fill(Infinity)
  for (let i = 0; i < n; i++) {
    const ends = Array.from({ length: Math.min(setup.cap, n - i) }, (_, k) => i + 1 + k)
    const rows = ends.flatMap((j) => Array.from({ length: seeds }, (_, s) => ({ j, s })))
    const r = rows.length
    const x = new Float32Array(r * imageSize)
    const h = new Float32Array((guided ? 2 : 1) * r * featSize)
    rows.forEach(({ s }, k) => {
      x.set(cal.latents[s][i], k * imageSize)
      const f = cal.features[s][i]
      h.set(f.subarray(0, featSize), k * featSize)
      if (guided) h.set(f.subarray(featSize, 2 * featSize), (r + k) * featSize)
    })
    const labelsOf = (ks: number[]) =>
      Int32Array.from(
        guided
          ? [...ks.map((k) => setup.classes[rows[k].s]), ...ks.map(() => denoiser.nullClass)]
          : ks.map((k) => setup.classes[rows[k].s]),
      )
    const all = rows.map((_, k) => k)
    let xt: Tensor = { data: x, dims: [r, ...denoiser.imageDims] }
    for (let t = i; t < n; t++) {
      const need = all.filter((k) => t > i && rows[k].j <= t)
      if (need.length > 0) {
        const sub = new Float32Array((guided ? 2 : 1) * need.length * imageSize)
        need.forEach((k, q) => {
          const row = xt.data.subarray(k * imageSize, (k + 1) * imageSize)
          sub.set(row, q * imageSize)
          if (guided) sub.set(row, (need.length + q) * imageSize)
        })
        const out = await denoiser.trunk(
          { data: sub, dims: [(guided ? 2 : 1) * need.length, ...denoiser.imageDims] },
          sigmas[t],
          labelsOf(need),
        )
        need.forEach((k, q) => {
          h.set(out.data.subarray(q * featSize, (q + 1) * featSize), k * featSize)
          if (guided)
            h.set(
              out.data.subarray((need.length + q) * featSize, (need.length + q + 1) * featSize),
              (r + k) * featSize,
            )
        })
      }
      const input: Tensor = guided
        ? { data: concat(xt.data, xt.data), dims: [2 * r, ...denoiser.imageDims] }
        : xt
      const v = await denoiser.head(
        { data: h, dims: [(guided ? 2 : 1) * r, ...denoiser.featureDims] },
        input,
        sigmas[t],
        labelsOf(all),
      )
      const velocity = guided ? combineGuidance(v, r, setup.guidance) : v
      xt = flowEuler.step(xt, velocity, t, sigmas, xt)
    }
    for (const j of ends) w[i * (n + 1) + j] = 0
    rows.forEach(({ j, s }, k) => {
      const ref = cal.images[s]
      let e = 0
      for (let q = 0; q < imageSize; q++) e += Math.abs(xt.data[k * imageSize + q] - ref[q])
      w[i * (n + 1) + j] += e / imageSize / seeds
    })
    setup.onProgress?.(i + 1, n)
  }
  return w
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
