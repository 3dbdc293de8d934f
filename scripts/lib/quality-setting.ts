/**
 * One step count of bench:quality: every method at every budget, tuned on the tuning seeds,
 * scored per image on the held-out seeds. Methods (docs/benchmarks.md cites each):
 *
 *   dpcache          the shipped schedule (keys, per-segment orders, refinement)
 *   dpcache-greedy   the paper's released planner on the order-1 cost
 *   dp-2d            the 2-D cost ablation
 *   taylorseer       warm-up W in 1..5 (tuned), fixed interval, Taylor order 1 (diffusers)
 *   uniform-taylor   keys at even intervals, order 1 (variant: order 2)
 *   uniform-reuse    keys at even intervals, reuse (FORA)
 *   teacache         accumulated relative input change, threshold bisected to K
 *   magcache         calibrated magnitude ratios, (retain, maxSkip) tuned, delta bisected to K
 *   easycache        transformation-rate rule, tau bisected to K
 *   lemica           lexicographic minimax path over final-image edge errors, reuse
 *   budcache         hill climbs over key sets on the final-image error, order 1, multi-start
 *   euler-k          K plain Euler steps
 */
import type { Trajectory } from '../../src/core/pact.ts'
import { planAll } from '../../src/core/planner.ts'
import { uniformKeys } from '../../src/core/policy.ts'
import type { Denoiser } from '../../src/core/sampler.ts'
import type { Calibration } from './calibrate.ts'
import {
  lemicaPath,
  magcacheDelta,
  magcacheMask,
  magnitudeRatios,
  taylorseerKeys,
} from './quality-baselines.ts'
import {
  easycacheRecipe,
  keysRecipe,
  pickBest,
  staticRecipe,
  teacacheRecipe,
  tuneScore,
  tuneThreshold,
  type Recipe,
  type TuneContext,
} from './quality-methods.ts'
import type { RefineError } from '../../src/core/schedule.ts'
import { finalImageError } from './refine-plans.ts'
import { budcacheSearch } from './quality-budcache.ts'
import type { Candidate } from './refine.ts'

export const METHODS = [
  'dpcache',
  'dpcache-greedy',
  'dp-2d',
  'taylorseer',
  'uniform-taylor',
  'uniform-reuse',
  'teacache',
  'magcache',
  'easycache',
  'lemica',
  'budcache',
  'euler-k',
] as const
export type Method = (typeof METHODS)[number]

export interface Entry {
  method: Method
  variant?: string
  recipe: Recipe
  /** what tuning chose, for the table */
  setting?: string
  /** NFE on the tuning seeds (adaptive methods) */
  tuneNfe?: number
}

/** A static plan as the bench runs it: keys, orders, and a v4 plan's per-segment spaces. */
export type BenchPlan = { keySteps: number[]; orders?: number[]; order: number; spaces?: string[] }

export interface SettingInput {
  denoiser: Denoiser
  steps: number
  guidance: number
  shift: number
  tune: TuneContext
  cal: Calibration & { seeds: readonly number[]; classes: readonly number[] }
  /** what the shipped schedule forecasts at a skipped step (schedule v3; absent: the feature) */
  spaces?: readonly string[]
  /** shipped plan per budget (keys, orders, per-segment spaces) */
  shipped: Map<number, BenchPlan>
  /** order-1 cost tensor with the shipped settings, for greedy and 2-D */
  pact: import('../../src/core/pact.ts').Pact
  forcedFirst: number
  /** extra dpcache rows: label -> keys/orders per budget, forecast in `spaces` (absent: feature) */
  ablations: {
    label: string
    spaces?: readonly string[]
    plans: Map<number, BenchPlan>
  }[]
  /** LeMiCa's edge weights; absent in a partial rerun (`only`), which never runs LeMiCa */
  lemica?: { weights: Float64Array }
  budcacheEvals: number
  /**
   * BudCache's judging errors, one row each: 'final-image-mse' is the method as specified (no
   * variant); another (the shipped refinement's, when it differs) is a variant row, so the
   * planners are compared on the same objective too.
   */
  budcacheErrors: readonly RefineError[]
  /**
   * One more BudCache row judged by this error, forecasting in the shipped `spaces`: the
   * planners compared with the same forecaster (the method as specified forecasts the feature).
   */
  budcacheWithShippedSpaces?: RefineError
  /** rerun only these methods (besides the shipped row); undefined: all */
  only?: readonly Method[]
  hidden: number
  log: (line: string) => void
}

/** All entries for one budget, each tuned on the tuning seeds. */
export async function entriesFor(s: SettingInput, budget: number): Promise<Entry[]> {
  const n = s.steps
  const out: Entry[] = []
  const sh = s.shipped.get(budget)
  if (!sh) throw new Error(`the shipped ${n}-step schedule has no K=${budget} plan`)
  out.push({
    method: 'dpcache',
    recipe: keysRecipe(n, sh.keySteps, sh.order, sh.orders, s.spaces, sh.spaces),
    setting:
      (sh.orders ? `orders ${sh.orders.join('')}` : `order ${sh.order}`) +
      (sh.spaces
        ? `, forecast ${sh.spaces.join(' ')}`
        : s.spaces
          ? `, forecast ${s.spaces.join('+')}`
          : ''),
  })
  for (const a of s.only && !s.only.includes('dpcache') ? [] : s.ablations) {
    const p = a.plans.get(budget)
    if (p)
      out.push({
        method: 'dpcache',
        variant: a.label,
        recipe: keysRecipe(n, p.keySteps, p.order, p.orders, a.spaces, p.spaces),
      })
  }
  // a partial rerun (bench:quality --only): the shipped row, for the pairing, and the methods
  // named (dpcache: its ablations, above; budcache)
  if (s.only)
    return s.only.includes('budcache') ? [...out, ...(await budcacheEntries(s, budget))] : out
  for (const [method, m] of [
    ['dpcache-greedy', 'greedy'],
    ['dp-2d', '2d'],
  ] as const) {
    const plan = planAll(s.pact, { method: m, forcedFirst: s.forcedFirst }).find(
      (p) => p.budget === budget,
    )
    if (plan) out.push({ method, recipe: staticRecipe(plan.mask, 1) })
  }
  // taylorseer: W on the tuning seeds
  const ws = [1, 2, 3, 4, 5].filter((w) => w < budget)
  const ts = await pickBest(s.tune, ws, (w) => keysRecipe(n, taylorseerKeys(n, budget, w), 1))
  out.push({
    method: 'taylorseer',
    recipe: keysRecipe(n, taylorseerKeys(n, budget, ts.best), 1),
    setting: `W=${ts.best}`,
  })
  out.push({ method: 'uniform-taylor', recipe: keysRecipe(n, uniformKeys(n, budget), 1) })
  out.push({
    method: 'uniform-taylor',
    variant: 'order 2',
    recipe: keysRecipe(n, uniformKeys(n, budget), 2),
  })
  out.push({ method: 'uniform-reuse', recipe: keysRecipe(n, uniformKeys(n, budget), 0) })
  // teacache and easycache: thresholds bisected to K on the tuning seeds
  const tea = await tuneThreshold(s.tune, budget, (t) => teacacheRecipe(t, n))
  out.push({
    method: 'teacache',
    recipe: teacacheRecipe(tea.threshold, n),
    setting: `threshold ${tea.threshold.toPrecision(3)}`,
    tuneNfe: tea.nfe,
  })
  const warm = Math.min(2, budget - 1)
  const easy = await tuneThreshold(s.tune, budget, (t) => easycacheRecipe(t, n, warm))
  out.push({
    method: 'easycache',
    recipe: easycacheRecipe(easy.threshold, n, warm),
    setting: `tau ${easy.threshold.toPrecision(3)}, warm-up ${warm}`,
    tuneNfe: easy.nfe,
  })
  // magcache: (retain, maxSkip) on the tuning seeds, delta bisected to exactly K where it can be
  const gamma = magnitudeRatios(s.cal.features as Trajectory[], s.hidden)
  const configs: { retain: number; maxSkip: number; delta: number; keys: number }[] = []
  for (const retain of [
    ...new Set([1, Math.max(1, Math.floor(budget / 4)), Math.round(0.1 * n)]),
  ].filter((r) => r < budget)) {
    for (const maxSkip of [2, 3, 4, 6, 8, 12, 20]) {
      const d = magcacheDelta(gamma, budget, retain, maxSkip)
      if (d && d.keys === budget) configs.push({ retain, maxSkip, ...d })
    }
  }
  if (configs.length) {
    const mc = await pickBest(s.tune, configs, (c) => staticRecipe(magcacheMask(gamma, c), 0))
    out.push({
      method: 'magcache',
      recipe: staticRecipe(magcacheMask(gamma, mc.best), 0),
      setting: `retain ${mc.best.retain}, maxSkip ${mc.best.maxSkip}, delta ${mc.best.delta.toPrecision(3)}`,
    })
  } else s.log(`magcache: no (retain, maxSkip, delta) gives exactly K=${budget}`)
  // lemica: exact lexicographic minimax path with exactly K keys
  if (!s.lemica) throw new Error('a full bench run needs LeMiCa edge weights')
  const w = s.lemica.weights
  const lk = lemicaPath(n, budget, (i, j) => w[i * (n + 1) + j])
  if (lk) out.push({ method: 'lemica', recipe: keysRecipe(n, lk, 0) })
  else s.log(`lemica: no path with K=${budget} under the edge cap`)
  out.push(...(await budcacheEntries(s, budget)))
  out.push({ method: 'euler-k', recipe: staticRecipe('1'.repeat(budget), 1) })
  // the tuning PSNR of every static entry, so "ship what wins on tuning seeds" can be checked
  return out
}

export { tuneScore }

/** BudCache: hill climbs over key sets (scripts/lib/quality-budcache.ts), one row per error. */
async function budcacheEntries(s: SettingInput, budget: number): Promise<Entry[]> {
  const n = s.steps
  const out: Entry[] = []
  const runs: { error: RefineError; spaces?: readonly string[] }[] = s.budcacheErrors.map(
    (error) => ({ error }),
  )
  if (s.budcacheWithShippedSpaces && s.spaces)
    runs.push({ error: s.budcacheWithShippedSpaces, spaces: s.spaces })
  for (const { error, spaces } of runs) {
    const judged = (judge: Parameters<typeof finalImageError>[1]) => (c: Candidate) =>
      finalImageError(
        { denoiser: s.denoiser, steps: n, guidance: s.guidance, shift: s.shift, spaces },
        judge,
        c,
        error,
      )
    const bud = await budcacheSearch({
      steps: n,
      budget,
      evals: s.budcacheEvals,
      evaluate: judged({ seeds: s.cal.seeds, classes: s.cal.classes, references: s.cal.images }),
      select: judged({
        seeds: s.tune.cases.map((c) => c.seed),
        classes: s.tune.cases.map((c) => c.class),
        references: s.tune.references,
      }),
    })
    const variant = [
      ...(error === 'final-image-mse' ? [] : [`judged by ${error}`]),
      ...(spaces ? [`forecast ${spaces.join('+')}`] : []),
    ].join(', ')
    out.push({
      method: 'budcache',
      ...(variant ? { variant } : {}),
      recipe: keysRecipe(n, bud.keySteps, 1, undefined, spaces),
      setting: `${bud.runs} runs, ${bud.climbs} climbs, ${bud.candidates} candidates`,
    })
  }
  return out
}
