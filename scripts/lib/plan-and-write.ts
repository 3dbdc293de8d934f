/** Plans every budget from a cost tensor and writes schedule, tensor, figures and index. */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeNpy } from '../../src/core/npy.ts'
import type { Pact } from '../../src/core/pact.ts'
import { planAll, type Plan } from '../../src/core/planner.ts'
import type { Schedule } from '../../src/core/schedule.ts'
import { writeFileAtomic } from './atomic.ts'
import { scheduleFigures } from './figures.ts'
import type { ScheduleArgs } from './schedule-args.ts'
import { buildSchedule, rebuildIndex, sha256, writeSchedule } from './schedule-writer.ts'

export interface PlanningInput {
  pact: Pact
  /** Plans made elsewhere (the 4-D planner); default: the exact 3-D planner on `pact`. */
  plans?: Plan[]
  modelSha256: string | null
  /** Solver time shift the trajectories were sampled with (1 when unknown, e.g. imported). */
  shift: number
  calibration: Omit<Schedule['calibration'], 'pactFile' | 'pactSha256'>
}

export async function runPlanning(args: ScheduleArgs, input: PlanningInput): Promise<Schedule> {
  const n = input.pact.steps
  const dir = join(args.out, args.model)
  await mkdir(dir, { recursive: true })
  const npy = writeNpy({ shape: [n, n + 1, n + 1], data: input.pact.data })
  const pactFile = `${args.model}/${n}.pact.npy`
  const pactSha256 = sha256(npy)
  await writeFileAtomic(join(args.out, pactFile), npy)
  const plannerOpts = { ...args.planner, maxJump: args.planner.maxJump ?? n }
  const plans = input.plans ?? planAll(input.pact, { method: 'exact', ...plannerOpts })
  const forecaster = { kind: 'taylor' as const, order: args.order, cost: args.cost, includeArrival: args.includeArrival, metric: args.metric }
  const meta = {
    tensor: pactFile,
    sha256: pactSha256,
    shape: [n, n + 1, n + 1],
    dtype: 'float64-le',
    layout: 'C[p][i][j]: previous key p, current key i, next key j (j = N: end); +Infinity where infeasible',
    forecaster,
    calibration: input.calibration,
  }
  await writeFileAtomic(join(args.out, args.model, `${n}.pact.json`), JSON.stringify(meta, null, 2) + '\n')
  const schedule = buildSchedule(
    {
      model: args.model,
      modelSha256: input.modelSha256,
      steps: n,
      shift: input.shift,
      forecaster,
      calibration: { ...input.calibration, pactFile, pactSha256 },
      planner: { method: 'exact', ...plannerOpts },
    },
    plans,
  )
  const greedy = planAll(input.pact, { method: 'greedy', ...plannerOpts })
  const figs = scheduleFigures(args.model, input.pact, args.includeArrival, schedule.plans, [{ name: 'greedy (paper)', plans: greedy }])
  for (const [name, svg] of Object.entries(figs)) await writeFileAtomic(join(dir, `${n}.${name}.svg`), svg)
  const path = await writeSchedule(args.out, schedule)
  await rebuildIndex(args.out)
  const k10 = schedule.plans.find((p) => p.budget === Math.round(n / 5))
  process.stderr.write(`wrote ${path}: ${schedule.plans.length} budgets (${schedule.plans[0].budget}..${schedule.plans[schedule.plans.length - 1].budget})`)
  process.stderr.write(k10 ? `; K=${k10.budget}: [${k10.keySteps.join(',')}] cost ${k10.cost}\n` : '\n')
  return schedule
}
