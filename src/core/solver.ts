/**
 * Rectified-flow Euler solver, in diffusers' two phases: `sigmas` precomputes the noise levels
 * (terminal 0 appended), `step` applies one update.
 *
 * Convention: x_sigma = (1 - sigma) x0 + sigma eps; the model predicts v = eps - x0, so
 * dx/dsigma = v and the Euler update is x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v_i.
 */
import type { Tensor } from './tensor.ts'

export interface SigmaOptions {
  /**
   * Time shift (SD3 / FLUX "shift"): sigma' = s sigma / (1 + (s - 1) sigma). 1 leaves the
   * schedule linear; values > 1 spend more steps at high noise.
   */
  shift?: number
}

export interface Solver {
  /** N + 1 noise levels from 1 down to 0 for an N-step sampler. */
  sigmas(steps: number, opts?: SigmaOptions): Float64Array
  /** One update of step `i`; writes into `out` (may alias `x`) and returns it. */
  step(x: Tensor, v: Tensor, i: number, sigmas: Float64Array, out?: Tensor): Tensor
}

export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma)
}

export const flowEuler: Solver = {
  sigmas(steps, opts = {}) {
    if (!Number.isInteger(steps) || steps < 1) {
      throw new RangeError(`steps must be a positive integer, got ${steps}`)
    }
    const shift = opts.shift ?? 1
    if (!(shift > 0)) throw new RangeError(`shift must be > 0, got ${shift}`)
    const out = new Float64Array(steps + 1)
    // 1. linear grid in t from 1 to 0 (the terminal 0 is part of the grid)
    // 2. optional time shift; shift(0) = 0 and shift(1) = 1, so the end points stay put
    for (let i = 0; i <= steps; i++) out[i] = shiftSigma(1 - i / steps, shift)
    out[steps] = 0
    return out
  },

  step(x, v, i, sigmas, out) {
    if (i < 0 || i + 1 >= sigmas.length) {
      throw new RangeError(`step ${i} is outside a ${sigmas.length - 1}-step schedule`)
    }
    if (x.data.length !== v.data.length) {
      throw new RangeError(`x has ${x.data.length} elements but v has ${v.data.length}`)
    }
    const target = out ?? { data: new Float32Array(x.data.length), dims: [...x.dims] }
    const dt = sigmas[i + 1] - sigmas[i]
    const xd = x.data
    const vd = v.data
    const od = target.data
    for (let k = 0; k < xd.length; k++) od[k] = xd[k] + dt * vd[k]
    return target
  },
}
