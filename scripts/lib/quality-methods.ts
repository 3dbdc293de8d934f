/**
 * The methods bench:quality compares at equal NFE, all driven through the one sampler loop:
 * a compute policy (when the trunk runs) plus a forecaster order (how skipped steps are filled).
 */
import type { Pact, Pact4 } from '../../src/core/pact.ts'
import { planAll, type PlanMethod } from '../../src/core/planner.ts'
import { planAllTriple } from '../../src/core/planner-triple.ts'
import { StaticMaskPolicy, TeaCachePolicy, uniformMask, type ComputePolicy } from '../../src/core/policy.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'

export const METHODS = ['dpcache-exact', 'dpcache-greedy', 'dp-2d', 'uniform-taylor', 'uniform-reuse', 'teacache', 'euler-k'] as const
export type MethodName = (typeof METHODS)[number]

/** How one (method, budget) samples: a step count, a policy factory and a forecaster order. */
export interface Recipe {
  steps: number
  order: number
  policy: () => ComputePolicy
  /** adaptive policies decide per image, so they run one image at a time */
  perImage: boolean
}

export interface PlanSource {
  label: string
  pact: Pact
  pact4?: Pact4
  order: number
  forcedFirst: number
}

const planned = new WeakMap<PlanSource, Map<PlanMethod, Map<number, string>>>()

/** Key-step masks by budget for a planner method over a cost tensor (planned once per source). */
export function planMasks(src: PlanSource, method: PlanMethod): Map<number, string> {
  const bySource = planned.get(src) ?? new Map<PlanMethod, Map<number, string>>()
  planned.set(src, bySource)
  let masks = bySource.get(method)
  if (!masks) {
    const plans = src.pact4 ? planAllTriple(src.pact4, { forcedFirst: src.forcedFirst }) : planAll(src.pact, { method, forcedFirst: src.forcedFirst })
    masks = new Map(plans.map((p) => [p.budget, p.mask]))
    bySource.set(method, masks)
  }
  return masks
}

export function staticRecipe(mask: string, order: number): Recipe {
  return { steps: mask.length, order, policy: () => new StaticMaskPolicy(mask), perImage: false }
}

export function recipeFor(method: Exclude<MethodName, 'teacache'>, budget: number, steps: number, src: PlanSource): Recipe {
  const plan = (m: PlanMethod) => {
    const mask = planMasks(src, m).get(budget)
    if (!mask) throw new Error(`${src.label}: no ${m} plan with K=${budget}`)
    return staticRecipe(mask, src.order)
  }
  switch (method) {
    case 'dpcache-exact':
      return plan('exact')
    case 'dpcache-greedy':
      return plan('greedy')
    case 'dp-2d':
      return plan('2d')
    case 'uniform-taylor':
      return staticRecipe(uniformMask(steps, budget), 2)
    case 'uniform-reuse':
      return staticRecipe(uniformMask(steps, budget), 0)
    case 'euler-k':
      return staticRecipe('1'.repeat(budget), 1)
  }
}

export function teacacheRecipe(threshold: number, steps: number): Recipe {
  return { steps, order: 0, policy: () => new TeaCachePolicy(threshold), perImage: true }
}

export interface RunOutput {
  /** one [C*H*W] image per case */
  images: Float32Array[]
  /** trunk calls per image, averaged */
  nfe: number
}

/** Runs a recipe over cases in chunks (or one at a time for adaptive policies). */
export async function runRecipe(
  denoiser: Denoiser,
  recipe: Recipe,
  cases: readonly { seed: number; class: number }[],
  guidance: number,
  chunk: number,
): Promise<RunOutput> {
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
      order: recipe.order,
      policy: recipe.policy(),
    })
    const row = res.images.data.length / part.length
    for (let b = 0; b < part.length; b++) images.push(res.images.data.slice(b * row, (b + 1) * row))
    trunkCalls += res.nfe * part.length
  }
  return { images, nfe: trunkCalls / cases.length }
}

/** Bisection on log(threshold) until TeaCache's mean NFE on `cases` is as close to `target` as it gets. */
export async function tuneTeaCache(
  denoiser: Denoiser,
  target: number,
  steps: number,
  cases: readonly { seed: number; class: number }[],
  guidance: number,
): Promise<{ threshold: number; nfe: number }> {
  let lo = Math.log(1e-4)
  let hi = Math.log(20)
  let best = { threshold: Math.exp(lo), nfe: steps }
  for (let it = 0; it < 14; it++) {
    const mid = (lo + hi) / 2
    const { nfe } = await runRecipe(denoiser, teacacheRecipe(Math.exp(mid), steps), cases, guidance, 1)
    if (Math.abs(nfe - target) < Math.abs(best.nfe - target)) best = { threshold: Math.exp(mid), nfe }
    if (nfe > target) lo = mid
    else hi = mid
    if (Math.abs(nfe - target) < 0.05) break
  }
  return best
}
