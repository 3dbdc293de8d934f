/**
 * Turns plans into schedule files, and keeps `index.json` equal to what is on disk. Key order
 * is fixed by construction and every file ends in a newline, so the same inputs give the same
 * bytes. All writes are atomic.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '../../src/core/planner.ts'
import {
  INDEX_SCHEMA,
  parseSchedule,
  parseScheduleIndex,
  SCHEDULE_SCHEMAS,
  type Schedule,
  type ScheduleIndex,
} from '../../src/core/schedule.ts'
import { writeFileAtomic } from './atomic.ts'

export const sha256 = (bytes: Uint8Array | string) =>
  createHash('sha256').update(bytes).digest('hex')

export interface ScheduleMeta {
  model: string
  modelSha256: string | null
  steps: number
  /** null: unknown (imported tensors). */
  shift: number | null
  forecaster: Schedule['forecaster']
  calibration: Schedule['calibration']
  planner: Schedule['planner']
  refinement?: Schedule['refinement']
}

/** Rounds costs to 6 significant digits: the file stays readable and byte-stable. */
const round = (v: number) => Number(v.toPrecision(6))

/**
 * `greedy`: the paper's planner on the same tensor and settings; each plan then records what
 * it would have cost at the same budget (`greedyCost`), so the file shows the saving.
 */
export function buildSchedule(
  meta: ScheduleMeta,
  plans: readonly (Plan & { orders?: number[]; spaces?: string[] })[],
  greedy: readonly Plan[] = [],
): Schedule {
  const greedyCost = new Map(
    greedy.filter((p) => Number.isFinite(p.cost)).map((p) => [p.budget, round(p.cost)]),
  )
  // v2..v4 only where their features are used, so older readers keep reading every other file
  const v4 = plans.some((p) => p.spaces) || meta.refinement?.polishSpaces !== undefined
  const v3 = meta.forecaster.spaces !== undefined
  const v2 =
    plans.some((p) => p.orders) ||
    meta.refinement ||
    meta.forecaster.orders ||
    meta.calibration.pactFiles
  const version = v4 ? 4 : v3 ? 3 : v2 ? 2 : 1
  const schedule: Schedule = {
    schema: SCHEDULE_SCHEMAS[version - 1],
    model: meta.model,
    modelSha256: meta.modelSha256,
    steps: meta.steps,
    solver: { kind: 'flow-euler', shift: meta.shift },
    forecaster: meta.forecaster,
    calibration: meta.calibration,
    planner: meta.planner,
    plans: plans
      .filter((p) => Number.isFinite(p.cost))
      .map((p) => ({
        budget: p.budget,
        keySteps: p.keySteps,
        mask: p.mask,
        cost: round(p.cost),
        ...(greedyCost.has(p.budget) ? { greedyCost: greedyCost.get(p.budget) } : {}),
        nfe: p.budget,
        speedup: round(meta.steps / p.budget),
        ...(p.orders ? { orders: p.orders } : {}),
        ...(p.spaces ? { spaces: p.spaces } : {}),
      })),
    ...(meta.refinement ? { refinement: meta.refinement } : {}),
  }
  return parseSchedule(schedule) // never write what the API would refuse
}

export function scheduleText(s: Schedule): string {
  // plans on one line each: a 50-step file stays a few screens long and diffs per plan
  const { plans, ...head } = s
  const body = JSON.stringify(head, null, 2).slice(0, -2)
  const lines = plans.map((p) => `    ${JSON.stringify(p)}`).join(',\n')
  return `${body},\n  "plans": [\n${lines}\n  ]\n}\n`
}

export async function writeSchedule(outDir: string, s: Schedule): Promise<string> {
  await mkdir(join(outDir, s.model), { recursive: true })
  const path = join(outDir, s.model, `${s.steps}.json`)
  await writeFileAtomic(path, scheduleText(s))
  return path
}

/** Rebuilds index.json from the schedule files present (and valid) under `outDir`. */
export async function rebuildIndex(outDir: string): Promise<ScheduleIndex> {
  const models: ScheduleIndex['models'] = []
  const dirs = (await readdir(outDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
  for (const model of dirs) {
    const files = (await readdir(join(outDir, model))).filter((f) => /^[0-9]+\.json$/.test(f))
    const schedules: ScheduleIndex['models'][number]['schedules'] = []
    for (const file of files.sort((a, b) => parseInt(a) - parseInt(b))) {
      const bytes = await readFile(join(outDir, model, file))
      const s = parseSchedule(JSON.parse(bytes.toString('utf8')))
      schedules.push({
        steps: s.steps,
        file: `${model}/${file}`,
        sha256: sha256(bytes),
        budgets: s.plans.map((p) => p.budget),
      })
    }
    if (schedules.length > 0) models.push({ model, schedules })
  }
  const index = parseScheduleIndex({ schema: INDEX_SCHEMA, models })
  await writeFileAtomic(join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n')
  return index
}
