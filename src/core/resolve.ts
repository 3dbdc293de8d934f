/**
 * The one place that decides what a request may run: model facts + its schedule + a selector
 * (budget, speedup or maxCost) -> a resolved plan (steps, budget, key mask, forecaster, shift),
 * or a `PlanError` with a code, the field to fix and the values that would work. The engine,
 * the in-process backend, the CLI and the schedules route all go through it, so they cannot
 * disagree about what exists.
 */
import { selectPlan, type Schedule, type SchedulePlan } from './schedule.ts'

/** What the resolver needs to know about a runnable model (its manifest, in short). */
export interface PlanModel {
  id: string
  defaultSteps: number
  /** The sampler's time shift from the model's manifest. */
  shift: number
  /** sha256 over the model's graphs; a calibrated schedule must carry the same. */
  fingerprint?: string
}

/** At most one selector; none means full compute. */
export type PlanSelector = { budget?: number; speedup?: number; maxCost?: number }

export interface ResolvedPlan {
  model: string
  steps: number
  /** Trunk evaluations: key steps in the mask. */
  budget: number
  /** `1` compute, `0` forecast, one character per step. */
  mask: string
  keySteps: number[]
  /** Taylor order of the forecaster the schedule was planned for (unused at full compute). */
  order: number
  /** Per-segment orders of a v2 plan: orders[m] fills the steps after keySteps[m]. */
  orders?: number[]
  /** What a skipped step forecasts (a v3 schedule's `forecaster.spaces`; absent: the feature). */
  spaces?: string[]
  /** A v4 plan's per-segment spaces ('+'-joined), segmentSpaces[m] after keySteps[m]. */
  segmentSpaces?: string[]
  shift: number
  /** The plan's expected cost from the schedule; 0 at full compute. */
  cost: number
  source: 'full' | 'schedule'
}

/** Why a request cannot run: `not_found` (404), `invalid` (400) or `unavailable` (503). */
export type PlanErrorKind = 'not_found' | 'invalid' | 'unavailable'

export class PlanError extends Error {
  override name = 'PlanError'
  constructor(
    readonly kind: PlanErrorKind,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly allowed?: { min?: number; max?: number } | readonly (string | number)[],
  ) {
    super(message)
  }
}

const floor3 = (x: number) => Math.floor(x * 1000) / 1000

/**
 * Chooses a plan from a schedule (the schedules route: no model needed, no full-compute
 * fallback). Throws `PlanError` naming the selector's field and what the schedule offers.
 */
export function choosePlan(
  schedule: Pick<Schedule, 'steps' | 'plans'>,
  by: PlanSelector,
): SchedulePlan {
  checkOneSelector(by)
  const plan =
    by.budget !== undefined
      ? selectPlan(schedule, { budget: by.budget })
      : by.speedup !== undefined
        ? selectPlan(schedule, { speedup: by.speedup })
        : by.maxCost !== undefined
          ? selectPlan(schedule, { maxCost: by.maxCost })
          : undefined
  if (plan) return plan
  if (by.budget === undefined && by.speedup === undefined && by.maxCost === undefined) {
    throw new PlanError(
      'invalid',
      'invalid_field',
      'send one of budget, speedup, maxCost',
      'budget',
      schedule.plans.map((p) => p.budget),
    )
  }
  throw noPlan(schedule, by, [])
}

/**
 * Resolves a generate request. `steps` defaults to the model's; without a selector, or with
 * `budget === steps` or `speedup <= 1`, the run is full compute and needs no schedule. Any
 * other selector takes the plan from `schedule`, which must be this model's at exactly `steps`.
 */
export function resolvePlan(
  model: PlanModel,
  schedule: Schedule | undefined,
  request: PlanSelector & { steps?: number },
  listedSteps: readonly number[] = [],
): ResolvedPlan {
  checkOneSelector(request)
  const steps = request.steps ?? model.defaultSteps
  const full = fullPlan(model, steps)
  if (schedule && (schedule.model !== model.id || schedule.steps !== steps)) {
    throw new PlanError(
      'unavailable',
      'schedule_mismatch',
      `the schedule offered for ${model.id} at ${steps} steps is ${schedule.model} at ${schedule.steps}`,
    )
  }
  if (!schedule && steps !== model.defaultSteps) {
    const allowed = [...new Set([...listedSteps, model.defaultSteps])].sort((a, b) => a - b)
    throw new PlanError(
      'not_found',
      'unknown_steps',
      `${model.id} has no ${steps}-step schedule`,
      'steps',
      allowed,
    )
  }
  if (isFullRequest(request, steps)) return full
  if (!schedule) throw noPlan({ steps, plans: [] }, request, [steps])
  const shift = checkCompatible(model, schedule)
  let plan: SchedulePlan
  try {
    plan = choosePlan(schedule, request)
  } catch (err) {
    if (!(err instanceof PlanError)) throw err
    // full compute (cost 0) is always on offer to a runnable model
    if (request.maxCost !== undefined) return full
    throw noPlan(schedule, request, [steps])
  }
  return {
    model: model.id,
    steps,
    budget: plan.budget,
    mask: plan.mask,
    keySteps: plan.keySteps,
    order: schedule.forecaster.order,
    ...(plan.orders ? { orders: plan.orders } : {}),
    ...(schedule.forecaster.spaces ? { spaces: schedule.forecaster.spaces } : {}),
    ...(plan.spaces ? { segmentSpaces: plan.spaces } : {}),
    shift,
    cost: plan.cost,
    source: 'schedule',
  }
}

/** True when a request asks for plain sampling: no selector, budget = steps, or speedup <= 1. */
export function isFullRequest(by: PlanSelector, steps: number): boolean {
  return (
    by.budget === steps ||
    (by.speedup !== undefined && by.speedup <= 1) ||
    (by.budget === undefined && by.speedup === undefined && by.maxCost === undefined)
  )
}

/** Plain N-step sampling: every step a key step. */
export function fullPlan(model: PlanModel, steps: number): ResolvedPlan {
  return {
    model: model.id,
    steps,
    budget: steps,
    mask: '1'.repeat(steps),
    keySteps: Array.from({ length: steps }, (_, i) => i),
    order: 1,
    shift: model.shift,
    cost: 0,
    source: 'full',
  }
}

/**
 * A schedule runs only with the weights and sampler it was planned for: the graphs'
 * fingerprint and the solver shift (an imported schedule records neither: `null` means
 * "unknown", and then the manifest's shift is the one that runs). Returns the shift to use.
 */
export function checkCompatible(
  model: PlanModel,
  schedule: Pick<Schedule, 'steps' | 'modelSha256' | 'solver'>,
): number {
  if (
    schedule.modelSha256 !== null &&
    model.fingerprint !== undefined &&
    schedule.modelSha256 !== model.fingerprint
  ) {
    throw new PlanError(
      'unavailable',
      'schedule_mismatch',
      `the ${schedule.steps}-step schedule of ${model.id} was calibrated on other weights; recompute it`,
    )
  }
  const shift = schedule.solver.shift
  if (shift !== null && shift !== model.shift) {
    throw new PlanError(
      'unavailable',
      'schedule_mismatch',
      `the ${schedule.steps}-step schedule of ${model.id} was planned with shift ${shift}, the model samples with ${model.shift}`,
    )
  }
  return model.shift
}

function checkOneSelector(by: PlanSelector): void {
  const given = (['budget', 'speedup', 'maxCost'] as const).filter((k) => by[k] !== undefined)
  if (given.length > 1) {
    throw new PlanError(
      'invalid',
      'invalid_field',
      `send one of budget, speedup, maxCost (got ${given.join(' and ')})`,
      given[1],
      ['budget', 'speedup', 'maxCost'],
    )
  }
}

/** The error for a selector no plan satisfies; `extraBudgets` are offered besides the plans. */
function noPlan(
  s: Pick<Schedule, 'steps' | 'plans'>,
  by: PlanSelector,
  extraBudgets: readonly number[],
): PlanError {
  const budgets = [...new Set([...s.plans.map((p) => p.budget), ...extraBudgets])].sort(
    (a, b) => a - b,
  )
  if (by.budget !== undefined) {
    return new PlanError(
      'invalid',
      'invalid_field',
      `no ${by.budget}-key plan for ${s.steps} steps`,
      'budget',
      budgets,
    )
  }
  if (by.speedup !== undefined) {
    const best = Math.min(...budgets)
    return new PlanError(
      'invalid',
      'invalid_field',
      `no plan for ${s.steps} steps reaches a ${by.speedup}x speedup`,
      'speedup',
      {
        min: 1,
        max: floor3(s.steps / best),
      },
    )
  }
  const costs = s.plans.map((p) => p.cost)
  return new PlanError(
    'invalid',
    'invalid_field',
    `no plan for ${s.steps} steps costs ${by.maxCost} or less`,
    'maxCost',
    {
      min: costs.length ? Math.min(...costs) : 0,
    },
  )
}
