/**
 * Closed-loop refinement of a schedule's plans on a real model: each candidate is judged by the
 * mean squared error of its final images against the full-step images of the calibration
 * seeds (the cached run, exactly as the runtime samples it). A refined plan ships only if it
 * also beats the DP plan on separate selection seeds, so a plan fitted to the calibration
 * seeds' noise stays out. Deterministic: same model, seeds and budget give the same plans.
 */
import {
  orderedPathCost,
  type OrderedPlan,
  type OrderTensors,
} from '../../src/core/planner-orders.ts'
import { maskOf } from '../../src/core/planner.ts'
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import type { Schedule } from '../../src/core/schedule.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { refine, type Candidate } from './refine.ts'

export interface Judge {
  seeds: readonly number[]
  classes: readonly number[]
  /** full-step final image per seed */
  references: readonly Float32Array[]
}

export interface RefineSetup {
  denoiser: Denoiser
  steps: number
  guidance: number
  shift: number
  /** judges the search */
  calibration: Judge
  /** decides between the DP plan and the refined one */
  selection: Judge
  orders: readonly number[]
  forcedFirst: number
  evals: number
  log?: (line: string) => void
}

/** Mean over seeds of the final image's mean squared error against its reference. */
export async function finalImageMse(
  s: Pick<RefineSetup, 'denoiser' | 'steps' | 'guidance' | 'shift'>,
  judge: Judge,
  c: Candidate,
): Promise<number> {
  const res = await sample(s.denoiser, flowEuler, {
    steps: s.steps,
    classes: judge.classes,
    seeds: judge.seeds,
    guidance: s.guidance,
    shift: s.shift,
    order: Math.max(...c.orders, 0),
    orders: c.orders,
    policy: new StaticMaskPolicy(maskOf(s.steps, c.keySteps)),
  })
  const size = res.images.data.length / judge.seeds.length
  let total = 0
  judge.references.forEach((ref, b) => {
    let e = 0
    for (let k = 0; k < size; k++) {
      const d = res.images.data[b * size + k] - ref[k]
      e += d * d
    }
    total += e / size
  })
  return total / judge.seeds.length
}

/**
 * Refines `plans` at `budgets`; returns every plan (refined ones replaced where they won
 * selection) and the provenance record for the schedule.
 */
export async function refinePlans(
  setup: RefineSetup,
  plans: readonly OrderedPlan[],
  budgets: readonly number[],
  tensors: OrderTensors,
): Promise<{ plans: OrderedPlan[]; record: NonNullable<Schedule['refinement']> }> {
  const out = plans.slice()
  const record: NonNullable<Schedule['refinement']> = {
    method: 'hill-climb',
    error: 'final-image-mse',
    seeds: [...setup.calibration.seeds],
    classes: [...setup.calibration.classes],
    maxEvals: setup.evals,
    selectSeeds: [...setup.selection.seeds],
    plans: [],
  }
  for (const budget of budgets) {
    const at = out.findIndex((p) => p.budget === budget)
    if (at < 0) continue
    const start: Candidate = { keySteps: out[at].keySteps.slice(), orders: out[at].orders.slice() }
    const t0 = performance.now()
    const r = await refine(start, {
      steps: setup.steps,
      forcedFirst: setup.forcedFirst,
      orders: setup.orders,
      maxEvals: setup.evals,
      evaluate: (c) => finalImageMse(setup, setup.calibration, c),
    })
    let shipped: 'refined' | 'dp' = 'dp'
    if (r.moves.length > 0) {
      const [dp, refined] = [
        await finalImageMse(setup, setup.selection, start),
        await finalImageMse(setup, setup.selection, r.best),
      ]
      if (refined < dp) shipped = 'refined'
      setup.log?.(
        `K=${budget}: calibration MSE ${r.startError.toExponential(3)} -> ${r.error.toExponential(3)} in ${r.evals} runs (${r.moves.length} moves); selection ${dp.toExponential(3)} -> ${refined.toExponential(3)}: ship ${shipped}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      )
    } else setup.log?.(`K=${budget}: no move improved the DP plan in ${r.evals} runs`)
    if (shipped === 'refined') {
      out[at] = {
        budget,
        keySteps: r.best.keySteps,
        orders: r.best.orders,
        mask: maskOf(setup.steps, r.best.keySteps),
        cost: orderedPathCost(tensors, r.best.keySteps, r.best.orders),
      }
    }
    const round = (v: number) => Number(v.toPrecision(6))
    record.plans.push({
      budget,
      start,
      startError: round(r.startError),
      error: round(r.error),
      evals: r.evals,
      moves: r.moves.map((m) => m.move),
      shipped,
    })
  }
  return { plans: out, record }
}
