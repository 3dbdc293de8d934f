/**
 * The rules of the caching baselines bench:quality compares against, written from their
 * papers and repositories (docs/benchmarks.md cites each). Pure functions and policies: the
 * sampling runs through the one sampler loop like every other method.
 */
import type { Trajectory } from '../../src/core/pact.ts'
import { maskOf } from '../../src/core/planner.ts'
import type { ComputePolicy } from '../../src/core/policy.ts'
import type { Tensor } from '../../src/core/tensor.ts'

/**
 * TaylorSeer as diffusers' `TaylorSeerCacheConfig` runs it: the first W steps compute
 * (`disable_cache_before_step`), then keys at a fixed interval; spread as evenly as integers
 * allow so that exactly K keys run.
 */
export function taylorseerKeys(steps: number, budget: number, warmup: number): number[] {
  if (warmup < 1 || warmup > budget)
    throw new RangeError(`warm-up must be in [1, ${budget}], got ${warmup}`)
  const rest = budget - warmup
  const keys = Array.from({ length: warmup }, (_, t) => t)
  for (let m = 0; m < rest; m++) keys.push(warmup + Math.floor((m * (steps - warmup)) / rest))
  return keys
}

/**
 * MagCache's calibrated magnitude ratios: gamma[t] = mean over samples and tokens of
 * ||h_t|| / ||h_{t-1}|| (norms over the hidden dimension), gamma[0] = 1.
 */
export function magnitudeRatios(trajs: readonly Trajectory[], hidden: number): Float64Array {
  const steps = trajs[0].length
  const gamma = new Float64Array(steps).fill(1)
  for (let t = 1; t < steps; t++) {
    let sum = 0
    let count = 0
    for (const traj of trajs) {
      const a = traj[t - 1]
      const b = traj[t]
      for (let tok = 0; tok + hidden <= a.length; tok += hidden) {
        let na = 0
        let nb = 0
        for (let d = tok; d < tok + hidden; d++) {
          na += a[d] * a[d]
          nb += b[d] * b[d]
        }
        if (na > 0) {
          sum += Math.sqrt(nb / na)
          count++
        }
      }
    }
    gamma[t] = count > 0 ? sum / count : 1
  }
  return gamma
}

export interface MagCacheSettings {
  /** steps 0..retain-1 always compute (MagCache's retention ratio times N) */
  retain: number
  /** most consecutive skipped steps */
  maxSkip: number
  /** error threshold on the accumulated |1 - Gamma| */
  delta: number
}

/**
 * MagCache's rule: after the retained steps, each step multiplies the accumulated ratio,
 * counts a skip and adds |1 - Gamma| to the error; the step is skipped while the error stays
 * within delta and the skip count within maxSkip, else it computes and everything resets.
 * The ratios are calibrated, so the mask is the same for every image.
 */
export function magcacheMask(gamma: Float64Array, s: MagCacheSettings): string {
  const steps = gamma.length
  const keys: number[] = []
  let ratio = 1
  let skips = 0
  let err = 0
  for (let t = 0; t < steps; t++) {
    if (t < Math.max(1, s.retain)) {
      keys.push(t)
      continue
    }
    ratio *= gamma[t]
    skips += 1
    err += Math.abs(1 - ratio)
    if (err <= s.delta && skips <= s.maxSkip) continue
    keys.push(t)
    ratio = 1
    skips = 0
    err = 0
  }
  return maskOf(steps, keys)
}

/**
 * A delta for `budget` keys by bisection (the key count never grows with delta). Counts can
 * jump past a budget; then the delta with the nearest count below it is returned, so the
 * caller sees the NFE it really gets. Null when even the largest delta computes too much.
 */
export function magcacheDelta(
  gamma: Float64Array,
  budget: number,
  retain: number,
  maxSkip: number,
): { delta: number; keys: number } | null {
  const count = (delta: number) =>
    [...magcacheMask(gamma, { retain, maxSkip, delta })].filter((c) => c === '1').length
  let lo = 0
  let hi = 1e6
  if (count(hi) > budget) return null
  if (count(lo) <= budget) return { delta: lo, keys: count(lo) }
  // invariant: count(lo) > budget >= count(hi)
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2
    const c = count(mid)
    if (c === budget) return { delta: mid, keys: c }
    if (c > budget) lo = mid
    else hi = mid
  }
  return { delta: hi, keys: count(hi) }
}

const meanAbs = (a: Float32Array) => {
  let s = 0
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k])
  return s / a.length
}
const meanAbsDiff = (a: Float32Array, b: Float32Array) => {
  let s = 0
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k])
  return s / a.length
}

/**
 * EasyCache's runtime-adaptive rule: the transformation rate k = mean|d output| / mean|d input|
 * between the last two computed steps predicts how much the output moves for a given input
 * change; each step adds k * mean|x_t - x_{t-1}| / mean|out_last| and computes once the sum
 * passes tau. The first `warmup` steps always compute.
 */
export class EasyCachePolicy implements ComputePolicy {
  readonly name = 'easycache'
  private prevX: Float32Array | null = null
  private lastIn: Float32Array | null = null
  private lastOut: Float32Array | null = null
  private rate: number | null = null
  private acc = 0
  private pendingX: Float32Array | null = null

  constructor(
    readonly tau: number,
    readonly warmup = 2,
  ) {
    if (!(tau >= 0)) throw new RangeError(`tau must be >= 0, got ${tau}`)
  }

  reset(): void {
    this.prevX = null
    this.lastIn = null
    this.lastOut = null
    this.rate = null
    this.acc = 0
  }

  shouldCompute(i: number, x: Tensor): boolean {
    const prev = this.prevX
    this.prevX = x.data.slice()
    this.pendingX = this.prevX
    if (i < this.warmup || prev === null || this.rate === null || this.lastOut === null) return true
    this.acc += (this.rate * meanAbsDiff(x.data, prev)) / Math.max(meanAbs(this.lastOut), 1e-12)
    if (this.acc < this.tau) return false
    return true
  }

  observe(_i: number, _input: Tensor, h: Tensor): void {
    const x = this.pendingX!
    if (this.lastIn && this.lastOut) {
      const dx = meanAbsDiff(x, this.lastIn)
      this.rate = dx > 0 ? meanAbsDiff(h.data, this.lastOut) / dx : this.rate
    }
    this.lastIn = x
    this.lastOut = h.data.slice()
    this.acc = 0
  }
}

/** Lexicographic order of two equally long descending vectors: negative when a is smaller. */
function compareDesc(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] - b[k]
  return 0
}

function insertDesc(v: readonly number[], w: number): number[] {
  const out = v.slice()
  let k = out.length
  while (k > 0 && out[k - 1] < w) k--
  out.splice(k, 0, w)
  return out
}

/**
 * LeMiCa's lexicographic minimax path: keys 0 = t_1 < ... < t_K, edges (t_m, t_{m+1}) and
 * (t_K, N), minimising the descending-sorted vector of edge weights lexicographically. Adding
 * the same weight to two vectors keeps their order, so a DP over (node, keys used) that keeps
 * the smallest vector per state is exact. `weight(i, j)` is +Infinity where an edge is absent.
 */
export function lemicaPath(
  steps: number,
  budget: number,
  weight: (i: number, j: number) => number,
): number[] | null {
  type State = { vec: number[]; keys: number[] } | null
  let layer: State[] = Array.from({ length: steps }, () => null)
  layer[0] = { vec: [], keys: [0] }
  for (let m = 1; m < budget; m++) {
    const next: State[] = Array.from({ length: steps }, () => null)
    for (let i = 0; i < steps; i++) {
      const s = layer[i]
      if (!s) continue
      for (let j = i + 1; j < steps; j++) {
        const w = weight(i, j)
        if (!Number.isFinite(w)) continue
        const vec = insertDesc(s.vec, w)
        const cur = next[j]
        if (!cur || compareDesc(vec, cur.vec) < 0) next[j] = { vec, keys: [...s.keys, j] }
      }
    }
    layer = next
  }
  let best: State = null
  for (let i = 0; i < steps; i++) {
    const s = layer[i]
    if (!s) continue
    const w = weight(i, steps)
    if (!Number.isFinite(w)) continue
    const vec = insertDesc(s.vec, w)
    if (!best || compareDesc(vec, best.vec) < 0) best = { vec, keys: s.keys }
  }
  return best ? best.keys : null
}
