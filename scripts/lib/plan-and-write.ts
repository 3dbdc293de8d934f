/**
 * Plans every budget from a cost tensor and makes the files beside it: schedule, tensor (.npy)
 * and its provenance (.pact.json), figures. `planFiles` computes them (no I/O), so a check can
 * replay a committed tensor and compare bytes; `runPlanning` writes them and the index.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeNpy } from '../../src/core/npy.ts'
import type { Pact, Pact4 } from '../../src/core/pact.ts'
import { maskOf, pathCost, planAll, type Plan, type PlanOptions } from '../../src/core/planner.ts'
import { pathCost4, planAllTriple } from '../../src/core/planner-triple.ts'
import { orderedPathCost, planAllOrders } from '../../src/core/planner-orders.ts'
import type { Schedule } from '../../src/core/schedule.ts'
import { writeFileAtomic } from './atomic.ts'
import { scheduleFigures } from './figures.ts'
import type { RefinedPlan } from './recipe.ts'
import { buildSchedule, rebuildIndex, scheduleText, sha256 } from './schedule-writer.ts'

export interface PlanningInput {
  model: string
  pact: Pact
  /** The exact order-2 tensor (`--cost 4d`): plans come from it, and it is written beside. */
  pact4?: Pact4
  modelSha256: string | null
  /** Solver time shift the trajectories were sampled with; null when unknown (imported). */
  shift: number | null
  calibration: Omit<Schedule['calibration'], 'pactFile' | 'pactSha256'>
  forecaster: Schedule['forecaster']
  planner: Omit<PlanOptions, 'method'>
  /** What a recorded refinement chose, by budget (key steps, or keys, orders and provenance): it replaces the DP's plan there. */
  refined?: Record<string, number[] | RefinedPlan>
  /** Per-segment orders (schedule v2): every order's tensor from the same calibration; the DP picks per segment. */
  byOrder?: { order: number; pact: Pact }[]
  /** How the refinement ran (recipe.refinement.options of a hill-climb), for the schedule's provenance. */
  refinement?: Omit<NonNullable<Schedule['refinement']>, 'plans'>
}

const LAYOUT3 =
  'C[p][i][j]: previous key p, current key i, next key j (j = N: end); +Infinity where infeasible'
const LAYOUT4 =
  'C[q][p][i][j]: keys q <= p <= i before the segment, next key j (j = N: end); +Infinity where infeasible'

/** Everything `runPlanning` writes for one tensor, as relative path -> bytes or text. */
export function planFiles(input: PlanningInput): {
  schedule: Schedule
  files: Map<string, Uint8Array | string>
} {
  const n = input.pact.steps
  const { model } = input
  const files = new Map<string, Uint8Array | string>()
  const npy = writeNpy({ shape: [n, n + 1, n + 1], data: input.pact.data })
  const pactFile = `${model}/${n}.pact.npy`
  files.set(pactFile, npy)
  let planned = { file: pactFile, sha256: sha256(npy) }
  const tensors: Record<string, unknown>[] = [
    {
      tensor: pactFile,
      sha256: planned.sha256,
      shape: [n, n + 1, n + 1],
      dtype: 'float64-le',
      layout: LAYOUT3,
    },
  ]
  const plannerOpts = {
    forcedFirst: input.planner.forcedFirst ?? 3,
    forcedLast: input.planner.forcedLast ?? 0,
    maxJump: input.planner.maxJump ?? n,
  }
  let plans: (Plan & { orders?: number[]; spaces?: string[] })[]
  let greedy = planAll(input.pact, { method: 'greedy', ...plannerOpts })
  if (input.pact4) {
    const npy4 = writeNpy({ shape: [n, n, n, n + 1], data: input.pact4.data })
    planned = { file: `${model}/${n}.pact4.npy`, sha256: sha256(npy4) }
    files.set(planned.file, npy4)
    tensors.push({
      tensor: planned.file,
      sha256: planned.sha256,
      shape: [n, n, n, n + 1],
      dtype: 'float64-le',
      layout: LAYOUT4,
      plannedOn: true,
    })
    plans = planAllTriple(input.pact4, plannerOpts)
    // the paper's planner only has the 3-D tensor; charge its keys what they really cost
    greedy = greedy.map((p) => ({ ...p, cost: pathCost4(input.pact4!, p.keySteps) }))
  } else if (input.byOrder) {
    plans = planAllOrders({ byOrder: input.byOrder }, plannerOpts)
  } else {
    plans = planAll(input.pact, { method: 'exact', ...plannerOpts })
  }
  const pactFiles: { order: number; file: string; sha256: string }[] = []
  for (const { order, pact } of input.byOrder ?? []) {
    if (order === input.forecaster.order) {
      pactFiles.push({ order, file: pactFile, sha256: sha256(npy) })
      continue
    }
    const bytes = writeNpy({ shape: [n, n + 1, n + 1], data: pact.data })
    const file = `${model}/${n}.pact-order${order}.npy`
    files.set(file, bytes)
    pactFiles.push({ order, file, sha256: sha256(bytes) })
    tensors.push({
      tensor: file,
      sha256: sha256(bytes),
      shape: [n, n + 1, n + 1],
      dtype: 'float64-le',
      layout: LAYOUT3,
      order,
    })
  }
  const records: NonNullable<Schedule['refinement']>['plans'] = []
  for (const [budget, chosen] of Object.entries(input.refined ?? {})) {
    const keySteps = Array.isArray(chosen) ? chosen : chosen.keySteps
    const orders = Array.isArray(chosen) ? undefined : chosen.orders
    const spaces = Array.isArray(chosen) ? undefined : chosen.spaces
    if (keySteps.length !== Number(budget) || !plans.some((p) => p.budget === Number(budget))) {
      throw new RangeError(
        `refinement for ${model} at ${n} steps: budget ${budget} has ${keySteps.length} key steps, or no DP plan to replace`,
      )
    }
    const cost = input.pact4
      ? pathCost4(input.pact4, keySteps)
      : orders && input.byOrder
        ? orderedPathCost({ byOrder: input.byOrder }, keySteps, orders)
        : pathCost(input.pact, keySteps)
    plans = plans.map((p) =>
      p.budget === Number(budget)
        ? {
            budget: p.budget,
            keySteps,
            mask: maskOf(n, keySteps),
            cost,
            ...(orders ? { orders } : {}),
            ...(spaces ? { spaces } : {}),
          }
        : p,
    )
    if (!Array.isArray(chosen)) {
      // the recipe's schema lists the provenance fields in the schedule's order, so the bytes
      // of both files agree without naming each field here
      const { keySteps: _k, orders: _o, spaces: _s, ...provenance } = chosen
      records.push({ budget: Number(budget), ...provenance })
    }
  }
  records.sort((a, b) => a.budget - b.budget)
  const provenance = {
    ...(tensors.length === 1 ? tensors[0] : { tensors }),
    modelSha256: input.modelSha256,
    shift: input.shift,
    forecaster: input.forecaster,
    calibration: input.calibration,
  }
  files.set(`${model}/${n}.pact.json`, JSON.stringify(provenance, null, 2) + '\n')
  const schedule = buildSchedule(
    {
      model,
      modelSha256: input.modelSha256,
      steps: n,
      shift: input.shift,
      forecaster: input.forecaster,
      calibration: {
        ...input.calibration,
        pactFile: planned.file,
        pactSha256: planned.sha256,
        ...(pactFiles.length ? { pactFiles } : {}),
      },
      planner: { method: 'exact', ...plannerOpts },
      ...(input.refinement && records.length
        ? { refinement: { ...input.refinement, plans: records } }
        : {}),
    },
    plans,
    greedy,
  )
  const figs = scheduleFigures(model, input.pact, input.forecaster.includeArrival, schedule.plans, [
    { name: 'greedy (paper)', plans: greedy },
  ])
  for (const [name, svg] of Object.entries(figs)) files.set(`${model}/${n}.${name}.svg`, svg)
  files.set(`${model}/${n}.json`, scheduleText(schedule))
  return { schedule, files }
}

export async function runPlanning(outDir: string, input: PlanningInput): Promise<Schedule> {
  return writePlanned(outDir, planFiles(input))
}

/** Writes what `planFiles` made (atomically, file by file) and rebuilds the index. */
export async function writePlanned(
  outDir: string,
  made: ReturnType<typeof planFiles>,
): Promise<Schedule> {
  const { schedule, files } = made
  await mkdir(join(outDir, schedule.model), { recursive: true })
  for (const [path, data] of files) await writeFileAtomic(join(outDir, path), data)
  await rebuildIndex(outDir)
  const n = schedule.steps
  const k10 = schedule.plans.find((p) => p.budget === Math.round(n / 5))
  process.stderr.write(
    `wrote ${join(outDir, schedule.model, `${n}.json`)}: ${schedule.plans.length} budgets (${schedule.plans[0].budget}..${schedule.plans[schedule.plans.length - 1].budget})`,
  )
  process.stderr.write(
    k10
      ? `; K=${k10.budget}: [${k10.keySteps.join(',')}] cost ${k10.cost}${k10.greedyCost !== undefined ? ` (greedy ${k10.greedyCost})` : ''}\n`
      : '\n',
  )
  return schedule
}
