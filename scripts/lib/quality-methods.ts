/**
 * How bench:quality samples a method: a compute policy (when the trunk runs) plus forecaster
 * orders (how skipped steps are filled), all through the one sampler loop; and the tuning
 * searches that put each baseline at its best on the tuning seeds at equal NFE.
 */
import { psnr } from '../../src/core/metrics.ts'
import { maskOf } from '../../src/core/planner.ts'
import { StaticMaskPolicy, TeaCachePolicy, type ComputePolicy } from '../../src/core/policy.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { EasyCachePolicy } from './quality-baselines.ts'

/** How one (method, budget) samples. */
export interface Recipe {
  steps: number
  order: number
  /** per-segment orders (schedule v2) */
  orders?: readonly number[]
  /** what a skipped step forecasts (schedule v3; absent: the trunk feature) */
  spaces?: readonly string[]
  /** per-segment spaces, '+'-joined (schedule v4) */
  segmentSpaces?: readonly string[]
  policy: () => ComputePolicy
  /** adaptive policies decide per image, so they run one image at a time */
  perImage: boolean
  /** static policies: the steps where the trunk runs (recorded with the bench's rows) */
  keySteps?: readonly number[]
}

export type Case = { seed: number; class: number }

export function staticRecipe(
  mask: string,
  order: number,
  orders?: readonly number[],
  spaces?: readonly string[],
  segmentSpaces?: readonly string[],
): Recipe {
  return {
    steps: mask.length,
    order: Math.max(order, ...(orders ?? [])),
    orders,
    ...(spaces ? { spaces } : {}),
    ...(segmentSpaces ? { segmentSpaces } : {}),
    policy: () => new StaticMaskPolicy(mask),
    perImage: false,
    keySteps: [...mask].flatMap((c, i) => (c === '1' ? [i] : [])),
  }
}

export function keysRecipe(
  steps: number,
  keys: readonly number[],
  order: number,
  orders?: readonly number[],
  spaces?: readonly string[],
  segmentSpaces?: readonly string[],
): Recipe {
  return staticRecipe(maskOf(steps, keys), order, orders, spaces, segmentSpaces)
}

export function teacacheRecipe(threshold: number, steps: number): Recipe {
  return { steps, order: 0, policy: () => new TeaCachePolicy(threshold), perImage: true }
}

export function easycacheRecipe(tau: number, steps: number, warmup: number): Recipe {
  return { steps, order: 0, policy: () => new EasyCachePolicy(tau, warmup), perImage: true }
}

export interface RunOutput {
  /** one [C*H*W] image per case */
  images: Float32Array[]
  /** trunk calls per image, averaged */
  nfe: number
  /** wall time per image of this run */
  msPerImage: number
}

/** Runs a recipe over cases in chunks (or one at a time for adaptive policies). */
export async function runRecipe(
  denoiser: Denoiser,
  recipe: Recipe,
  cases: readonly Case[],
  guidance: number,
  chunk: number,
  shift = 1,
): Promise<RunOutput> {
  const t0 = performance.now()
  const size = recipe.perImage ? 1 : chunk
  const images: Float32Array[] = []
  let trunkCalls = 0
  for (let start = 0; start < cases.length; start += size) {
    const part = cases.slice(start, start + size)
    const res = await sample(denoiser, flowEuler, {
      steps: recipe.steps,
      classes: part.map((c) => c.class),
      seeds: part.map((c) => c.seed),
      guidance,
      shift,
      order: recipe.order,
      orders: recipe.orders,
      spaces: recipe.spaces,
      segmentSpaces: recipe.segmentSpaces,
      policy: recipe.policy(),
    })
    const row = res.images.data.length / part.length
    for (let b = 0; b < part.length; b++) images.push(res.images.data.slice(b * row, (b + 1) * row))
    trunkCalls += res.nfe * part.length
  }
  return {
    images,
    nfe: trunkCalls / cases.length,
    msPerImage: (performance.now() - t0) / cases.length,
  }
}

/** Per-image PSNR against references (identical images count as 100 dB, not Infinity). */
export function psnrs(images: readonly Float32Array[], refs: readonly Float32Array[]): number[] {
  return images.map((im, k) => Math.min(psnr(im, refs[k]), 100))
}

export interface TuneContext {
  denoiser: Denoiser
  cases: readonly Case[]
  references: readonly Float32Array[]
  guidance: number
  shift: number
}

/** Mean PSNR of a recipe on the tuning cases, and the NFE it really used. */
export async function tuneScore(
  ctx: TuneContext,
  recipe: Recipe,
): Promise<{ psnr: number; nfe: number }> {
  const out = await runRecipe(
    ctx.denoiser,
    recipe,
    ctx.cases,
    ctx.guidance,
    ctx.cases.length,
    ctx.shift,
  )
  const p = psnrs(out.images, ctx.references)
  return { psnr: p.reduce((s, x) => s + x, 0) / p.length, nfe: out.nfe }
}

/** The candidate with the best tuning PSNR (the first on ties). */
export async function pickBest<T>(
  ctx: TuneContext,
  candidates: readonly T[],
  recipeOf: (c: T) => Recipe,
): Promise<{ best: T; psnr: number }> {
  let best = candidates[0]
  let score = -Infinity
  for (const c of candidates) {
    const s = (await tuneScore(ctx, recipeOf(c))).psnr
    if (s > score) {
      score = s
      best = c
    }
  }
  return { best, psnr: score }
}

/**
 * Bisection on log(threshold) until an adaptive policy's mean NFE on the tuning cases is as
 * close to `target` as it gets (NFE never grows with the threshold).
 */
export async function tuneThreshold(
  ctx: TuneContext,
  target: number,
  recipeOf: (threshold: number) => Recipe,
  range: [number, number] = [1e-4, 20],
  iterations = 12,
): Promise<{ threshold: number; nfe: number }> {
  let lo = Math.log(range[0])
  let hi = Math.log(range[1])
  let best = { threshold: Math.exp(lo), nfe: Infinity }
  for (let it = 0; it < iterations; it++) {
    const mid = (lo + hi) / 2
    const { nfe } = await runRecipe(
      ctx.denoiser,
      recipeOf(Math.exp(mid)),
      ctx.cases,
      ctx.guidance,
      1,
      ctx.shift,
    )
    if (Math.abs(nfe - target) < Math.abs(best.nfe - target))
      best = { threshold: Math.exp(mid), nfe }
    if (nfe > target) lo = mid
    else hi = mid
    if (Math.abs(nfe - target) < 0.1) break
  }
  return best
}
