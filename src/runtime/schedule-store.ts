/**
 * A `ScheduleStore` over any reader of relative paths: files on Node/Deno, the `ASSETS`
 * binding on Workers. The reader only ever sees `index.json` and `<model>/<steps>.json` built
 * from a model id that passed the schema's regex and an integer step count, so no request can
 * name a path outside the schedule root.
 */
import { hexDigest } from '../core/digest.ts'
import {
  MAX_STEPS,
  MODEL_ID_PATTERN,
  parseSchedule,
  parseScheduleIndex,
  type Schedule,
  type ScheduleIndex,
  type ScheduleStore,
} from '../core/schedule.ts'

/** Returns a file's text, or undefined when it does not exist. */
export type ScheduleReader = (relativePath: string) => Promise<string | undefined>

/** True for ids that are safe as one path segment: no '/', and no leading '.' (so no '..'). */
export function isModelId(model: string): boolean {
  return MODEL_ID_PATTERN.test(model)
}

/** True for a step count that can name a schedule file. */
export function isStepCount(steps: number): boolean {
  return Number.isInteger(steps) && steps >= 1 && steps <= MAX_STEPS
}

const EMPTY_INDEX: ScheduleIndex = { schema: 'dpcache-schedule-index/v1', models: [] }

/** A schedule file the store would not serve, and why (reported by /healthz). */
export interface ScheduleRefusal {
  file: string
  reason: string
}

/** Thrown by `get` for a listed schedule that failed verification. */
export class ScheduleRefusedError extends Error {
  override name = 'ScheduleRefusedError'
  constructor(readonly refusal: ScheduleRefusal) {
    super(`${refusal.file} was refused: ${refusal.reason}`)
  }
}

export interface VerifyingScheduleStore extends ScheduleStore {
  /** Files refused so far: a malformed index, or schedules that failed their checks. */
  refused(): ScheduleRefusal[]
  /** Refuses a schedule for a reason found outside the store (e.g. it does not fit its model). */
  refuse(model: string, steps: number, reason: string): void
}

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, k) => x === b[k])

/**
 * Builds a store that trusts nothing on disk. Schedules are static for the life of a process,
 * so verdicts are cached (misses included). A missing `index.json` means "no schedules yet";
 * a malformed one is refused and the store serves no schedules (every other route keeps
 * working). A schedule is served only if its bytes match the index's sha256, its budgets
 * match the index's list, and it parses; otherwise `get` throws `ScheduleRefusedError` and
 * the refusal is listed by `refused()`.
 */
export function readerScheduleStore(read: ScheduleReader): VerifyingScheduleStore {
  let index: Promise<ScheduleIndex> | undefined
  const files = new Map<string, Promise<Schedule | undefined>>()
  const refusals = new Map<string, string>()

  const loadIndex = async (): Promise<ScheduleIndex> => {
    const text = await read('index.json')
    if (text === undefined) return EMPTY_INDEX
    try {
      return parseScheduleIndex(JSON.parse(text))
    } catch (err) {
      refusals.set('index.json', (err as Error).message)
      return EMPTY_INDEX
    }
  }

  const load = async (model: string, steps: number): Promise<Schedule | undefined> => {
    // only files the index lists exist as far as clients are concerned
    const entry = (await store.index()).models
      .find((m) => m.model === model)
      ?.schedules.find((s) => s.steps === steps)
    if (!entry) return undefined
    const file = `${model}/${steps}.json`
    const text = await read(file)
    const refuse = (reason: string): never => {
      refusals.set(file, reason)
      throw new ScheduleRefusedError({ file, reason })
    }
    if (text === undefined) return refuse('listed in index.json but missing')
    const digest = await hexDigest('SHA-256', text)
    if (digest !== entry.sha256)
      refuse(`sha256 ${digest} does not match index.json (${entry.sha256})`)
    let schedule: Schedule
    try {
      schedule = parseSchedule(JSON.parse(text))
    } catch (err) {
      return refuse((err as Error).message)
    }
    if (schedule.model !== model || schedule.steps !== steps)
      refuse(`holds ${schedule.model} at ${schedule.steps} steps`)
    const budgets = schedule.plans.map((p) => p.budget)
    if (!sameList(budgets, entry.budgets))
      refuse(`has budgets ${budgets.join(',')}, index.json lists ${entry.budgets.join(',')}`)
    return schedule
  }

  const store: VerifyingScheduleStore = {
    index() {
      index ??= loadIndex().catch((err) => {
        index = undefined // a transient read failure must not stick
        throw err
      })
      return index
    },
    get(model, steps) {
      if (!isModelId(model) || !isStepCount(steps)) return Promise.resolve(undefined)
      const key = `${model}/${steps}`
      let hit = files.get(key)
      if (!hit) {
        hit = load(model, steps).catch((err) => {
          // a verdict on the file's content sticks; a read failure may be transient
          if (!(err instanceof ScheduleRefusedError)) files.delete(key)
          throw err
        })
        files.set(key, hit)
      }
      return hit
    },
    refused: () => [...refusals].map(([file, reason]) => ({ file, reason })),
    refuse(model, steps, reason) {
      const file = `${model}/${steps}.json`
      refusals.set(file, reason)
      const verdict = Promise.reject(new ScheduleRefusedError({ file, reason }))
      verdict.catch(() => {}) // read by later gets, not unhandled now
      files.set(`${model}/${steps}`, verdict)
    },
  }
  return store
}

/** A store over schedules already in memory (tests, benchmarks, embedded builds). */
export function memoryScheduleStore(schedules: readonly Schedule[]): ScheduleStore {
  const byKey = new Map(schedules.map((s) => [`${s.model}/${s.steps}`, s]))
  const models = [...new Set(schedules.map((s) => s.model))].sort()
  const index: ScheduleIndex = {
    schema: 'dpcache-schedule-index/v1',
    models: models.map((model) => ({
      model,
      schedules: schedules
        .filter((s) => s.model === model)
        .sort((a, b) => a.steps - b.steps)
        .map((s) => ({
          steps: s.steps,
          file: `${model}/${s.steps}.json`,
          sha256: '0'.repeat(64), // nothing on disk to hash
          budgets: s.plans.map((p) => p.budget),
        })),
    })),
  }
  return {
    index: async () => index,
    get: async (model, steps) => byKey.get(`${model}/${steps}`),
  }
}
