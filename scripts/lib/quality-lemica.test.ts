import { describe, expect, it } from 'vitest'
import { maskOf } from '../../src/core/planner.ts'
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import type { Tensor } from '../../src/core/tensor.ts'
import { calibrateFull } from './calibrate.ts'
import { lemicaWeights } from './quality-lemica.ts'

/** Row-independent non-linear trunk and head (the ONNX path is covered elsewhere). */
const analytic: Denoiser = {
  imageDims: [1, 2, 2],
  featureDims: [3],
  nullClass: 9,
  async trunk(x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor> {
    const rows = x.dims[0]
    const out = new Float32Array(rows * 3)
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < 3; f++) {
        let s = sigma * (f + 1) + 0.2 * labels[r]
        for (let k = 0; k < 4; k++) s += Math.cos(k + 2 * f) * x.data[r * 4 + k]
        out[r * 3 + f] = Math.tanh(s)
      }
    }
    return { data: out, dims: [rows, 3] }
  },
  async head(h: Tensor, x: Tensor, sigma: number): Promise<Tensor> {
    const rows = h.dims[0]
    const v = new Float32Array(rows * 4)
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < 4; k++)
        v[r * 4 + k] = 0.5 * x.data[r * 4 + k] + h.data[r * 3 + (k % 3)] * (1 + sigma)
    return { data: v, dims: [rows, 1, 2, 2] }
  },
}

describe('lemica edge weights', () => {
  it('equal the final-image L1 error of a run that caches only that segment', async () => {
    const steps = 9
    const setup = { steps, seeds: [4, 5], classes: [1, 2], guidance: 2.5, shift: 1 }
    const cal = await calibrateFull(analytic, setup)
    const w = await lemicaWeights(analytic, cal, {
      steps,
      classes: setup.classes,
      guidance: setup.guidance,
      shift: 1,
      cap: 4,
    })
    for (const [i, j] of [
      [0, 1],
      [0, 3],
      [2, 6],
      [5, 9],
      [6, 9],
    ]) {
      const keys = Array.from({ length: steps }, (_, t) => t).filter((t) => t <= i || t >= j)
      let want = 0
      for (let s = 0; s < 2; s++) {
        const res = await sample(analytic, flowEuler, {
          steps,
          classes: [setup.classes[s]],
          seeds: [setup.seeds[s]],
          guidance: 2.5,
          order: 0,
          policy: new StaticMaskPolicy(maskOf(steps, keys)),
        })
        want += res.images.data.reduce((e, v, k) => e + Math.abs(v - cal.images[s][k]), 0) / 4 / 2
      }
      expect(w[i * (steps + 1) + j]).toBeCloseTo(want, 5)
    }
    expect(w[0 * (steps + 1) + 1]).toBeCloseTo(0, 6) // nothing cached: the full run
    expect(w[0 * (steps + 1) + 5]).toBe(Infinity) // longer than the cap
  })
})
