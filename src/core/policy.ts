/**
 * Compute policies: *when* the trunk runs. How skipped steps are filled in is the
 * forecaster's business (taylor.ts); keeping the two apart lets every baseline share one loop.
 */
import type { Tensor } from './tensor.ts'
import { maskOf } from './planner.ts'

export interface ComputePolicy {
  /** Short name for logs and benchmark tables. */
  readonly name: string
  /** Called once before sampling `steps` steps. */
  reset(steps: number): void
  /** Whether step `i` runs the trunk; `x` is the latent entering the step. */
  shouldCompute(i: number, x: Tensor, sigmas: Float64Array): boolean
  /**
   * Sees the trunk's real input and output after each key step (output-aware rules such as
   * EasyCache's transformation rate need them).
   */
  observe?(i: number, input: Tensor, h: Tensor): void
}

/** A precomputed plan (DPCache, uniform intervals, ...): compute where the mask says '1'. */
export class StaticMaskPolicy implements ComputePolicy {
  constructor(
    readonly mask: string,
    readonly name = 'static',
  ) {
    if (!/^1[01]*$/.test(mask))
      throw new RangeError(`mask must be 0/1 chars starting with 1, got '${mask}'`)
  }
  reset(steps: number): void {
    if (steps !== this.mask.length) {
      throw new RangeError(`a ${this.mask.length}-step plan cannot drive a ${steps}-step sampler`)
    }
  }
  shouldCompute(i: number): boolean {
    return this.mask[i] === '1'
  }
}

/** Keys every `interval` steps from 0 (TaylorSeer / FORA style fixed-interval caching). */
export function uniformKeys(steps: number, budget: number): number[] {
  if (budget < 1 || budget > steps)
    throw new RangeError(`budget must be in [1, ${steps}], got ${budget}`)
  // Spread K keys as evenly as integers allow: key m at floor(m * N / K).
  return Array.from({ length: budget }, (_, m) => Math.floor((m * steps) / budget))
}

export function uniformMask(steps: number, budget: number): string {
  return maskOf(steps, uniformKeys(steps, budget))
}

/**
 * TeaCache-style adaptive policy: accumulate the relative L1 change of the trunk input between
 * consecutive steps and recompute once the sum passes `threshold`. TeaCache measures the
 * timestep-modulated input embedding; our graphs expose only the trunk input itself, so that
 * is the signal here. The first and last steps always compute, as in TeaCache.
 */
export class TeaCachePolicy implements ComputePolicy {
  readonly name = 'teacache'
  private previous: Float32Array | null = null
  private accumulated = 0
  private steps = 0

  constructor(readonly threshold: number) {
    if (!(threshold >= 0)) throw new RangeError(`threshold must be >= 0, got ${threshold}`)
  }

  reset(steps: number): void {
    this.previous = null
    this.accumulated = 0
    this.steps = steps
  }

  shouldCompute(i: number, x: Tensor): boolean {
    const prev = this.previous
    this.previous = x.data.slice()
    if (prev === null || i === 0 || i === this.steps - 1) {
      this.accumulated = 0
      return true
    }
    let num = 0
    let den = 0
    for (let k = 0; k < prev.length; k++) {
      num += Math.abs(x.data[k] - prev[k])
      den += Math.abs(prev[k])
    }
    this.accumulated += den > 0 ? num / den : 0
    if (this.accumulated < this.threshold) return false
    this.accumulated = 0
    return true
  }
}
