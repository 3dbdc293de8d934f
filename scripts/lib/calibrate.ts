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

export async function calibrate(
  denoiser: Denoiser,
  setup: CalibrationSetup,
): Promise<Trajectory[]> {
  return (await calibrateFull(denoiser, setup)).features
}

export interface Calibration {
  /** per sample: the cached feature at each step (conditional and unconditional rows together) */
  features: Trajectory[]
  /** per sample: the latent entering each step */
  latents: Float32Array[][]
  /** per sample: the final full-step image */
  images: Float32Array[]
}

/** Calibration that also keeps each step's latent and the final images (for final-image costs). */
export async function calibrateFull(
  denoiser: Denoiser,
  setup: CalibrationSetup,
): Promise<Calibration> {
  const batch = setup.seeds.length
  const row = sizeOf(denoiser.featureDims)
  const guided = setup.guidance !== 1
  const trajectories: Float32Array[][] = Array.from({ length: batch }, () => [])
  const latents: Float32Array[][] = Array.from({ length: batch }, () => [])
  const imageSize = sizeOf(denoiser.imageDims)
  // every step of a full run calls the trunk, whose input (first `batch` rows) is the latent
  const recording: Denoiser = {
    imageDims: denoiser.imageDims,
    featureDims: denoiser.featureDims,
    nullClass: denoiser.nullClass,
    trunk: (x, sigma, labels) => {
      for (let b = 0; b < batch; b++)
        latents[b].push(x.data.slice(b * imageSize, (b + 1) * imageSize))
      return denoiser.trunk(x, sigma, labels)
    },
    head: (h, x, sigma, labels) => denoiser.head(h, x, sigma, labels),
  }
  const res = await sample(recording, flowEuler, {
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
  const images = latents.map((_, b) => res.images.data.slice(b * imageSize, (b + 1) * imageSize))
  return { features: trajectories, latents, images }
}

/** Distinct seeds and classes for M calibration samples: seed base + k, class k mod C. */
export function calibrationCases(samples: number, seedBase: number, classes: number) {
  return {
    seeds: Array.from({ length: samples }, (_, k) => seedBase + k),
    classes: Array.from({ length: samples }, (_, k) => k % classes),
  }
}
