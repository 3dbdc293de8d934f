/**
 * Calibration (DPCache Sec. 3.2): M full N-step trajectories of a model, recording the cached
 * feature (trunk output) at every step. All samples run as one batch; with guidance each
 * sample's feature is its conditional and unconditional rows together, the same element-wise
 * streams the forecaster extrapolates at inference.
 */
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import type { Trajectory } from '../../src/core/pact.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { sizeOf } from '../../src/core/tensor.ts'

export interface CalibrationSetup {
  steps: number
  seeds: readonly number[]
  classes: readonly number[]
  guidance: number
  shift: number
  onStep?: (step: number) => void
}

export async function calibrate(denoiser: Denoiser, setup: CalibrationSetup): Promise<Trajectory[]> {
  const batch = setup.seeds.length
  const row = sizeOf(denoiser.featureDims)
  const guided = setup.guidance !== 1
  const trajectories: Float32Array[][] = Array.from({ length: batch }, () => [])
  await sample(denoiser, flowEuler, {
    steps: setup.steps,
    classes: setup.classes,
    seeds: setup.seeds,
    guidance: setup.guidance,
    shift: setup.shift,
    order: 0,
    policy: new StaticMaskPolicy('1'.repeat(setup.steps), 'full'),
    onFeature: (step, h) => {
      for (let b = 0; b < batch; b++) {
        const f = new Float32Array(guided ? 2 * row : row)
        f.set(h.data.subarray(b * row, (b + 1) * row))
        if (guided) f.set(h.data.subarray((batch + b) * row, (batch + b + 1) * row), row)
        trajectories[b].push(f)
      }
      setup.onStep?.(step)
    },
  })
  return trajectories
}

/** Distinct seeds and classes for M calibration samples: seed base + k, class k mod C. */
export function calibrationCases(samples: number, seedBase: number, classes: number) {
  return {
    seeds: Array.from({ length: samples }, (_, k) => seedBase + k),
    classes: Array.from({ length: samples }, (_, k) => k % classes),
  }
}
