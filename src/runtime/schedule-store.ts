/**
 * A `ScheduleStore` over any reader of relative paths: files on Node/Deno, the `ASSETS`
 * binding on Workers. The reader only ever sees `index.json` and `<model>/<steps>.json` built
 * from a model id that passed the schema's regex and an integer step count, so no request can
 * name a path outside the schedule root.
 */
import {
  parseSchedule,
  parseScheduleIndex,
  type Schedule,
  type ScheduleIndex,
  type ScheduleStore,
} from '../core/schedule.ts'

/** Returns a file's text, or undefined when it does not exist. */
export type ScheduleReader = (relativePath: string) => Promise<string | undefined>

/** The model ids the schedule schema accepts; checked before any path is built. */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** True for ids that are safe as one path segment: no '/', and no leading '.' (so no '..'). */
export function isModelId(model: string): boolean {
  return MODEL_ID.test(model)
}

/** True for a step count that can name a schedule file. */
export function isStepCount(steps: number): boolean {
  return Number.isInteger(steps) && steps >= 1 && steps <= 1000
}

const EMPTY_INDEX: ScheduleIndex = { schema: 'dpcache-schedule-index/v1', models: [] }

/**
 * Builds a store. Schedules are static for the life of a process, so parsed files are cached
 * (including misses: a probe for a file that is absent stays cheap). A missing `index.json`
 * means "no schedules yet", not an error; a malformed one throws.
 */
export function readerScheduleStore(read: ScheduleReader): ScheduleStore {
  let index: Promise<ScheduleIndex> | undefined
  const files = new Map<string, Promise<Schedule | undefined>>()

  const loadIndex = async (): Promise<ScheduleIndex> => {
    const text = await read('index.json')
    return text === undefined ? EMPTY_INDEX : parseScheduleIndex(JSON.parse(text))
  }

  const load = async (model: string, steps: number): Promise<Schedule | undefined> => {
    // only files the index lists exist as far as clients are concerned
    const entry = (await store.index()).models
      .find((m) => m.model === model)
      ?.schedules.find((s) => s.steps === steps)
    if (!entry) return undefined
    const text = await read(`${model}/${steps}.json`)
    if (text === undefined) return undefined
    const schedule = parseSchedule(JSON.parse(text))
    if (schedule.model !== model || schedule.steps !== steps) {
      throw new Error(`${model}/${steps}.json holds ${schedule.model} at ${schedule.steps} steps`)
    }
    return schedule
  }

  const store: ScheduleStore = {
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
          files.delete(key)
          throw err
        })
        files.set(key, hit)
      }
      return hit
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
