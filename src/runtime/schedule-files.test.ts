import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureSchedule, writeScheduleDir } from '../../test/fixtures/schedules.ts'
import { fileScheduleStore } from './schedule-files.ts'
import { memoryScheduleStore, readerScheduleStore } from './schedule-store.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpcache-sched-'))
  await writeScheduleDir(join(dir, 'schedules'), [
    fixtureSchedule('toy', 8),
    fixtureSchedule('toy', 12),
  ])
  // a file a traversal would hit, next to the schedule root
  await writeFile(join(dir, 'secret.json'), '{"schema":"dpcache-schedule-index/v1","models":[]}')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('fileScheduleStore', () => {
  it('reads the index and validated schedules', async () => {
    const store = fileScheduleStore(join(dir, 'schedules'))
    const index = await store.index()
    expect(index.models.map((m) => [m.model, m.schedules.map((s) => s.steps)])).toEqual([
      ['toy', [8, 12]],
    ])
    const s = await store.get('toy', 12)
    expect(s?.steps).toBe(12)
    expect(s?.plans.at(-1)?.budget).toBe(12)
    expect(await store.get('toy', 12)).toBe(s) // cached
  })

  it('answers undefined for what does not exist, touching no other path', async () => {
    const seen: string[] = []
    const inner = fileScheduleStore(join(dir, 'schedules'))
    const store = readerScheduleStore(async (p) => {
      seen.push(p)
      return p === 'index.json' ? JSON.stringify(await inner.index()) : undefined
    })
    for (const model of [
      '..',
      '../secret',
      '.',
      'a/b',
      'TOY',
      '%2e%2e',
      '',
      'x'.repeat(80),
      'toy\0',
    ]) {
      expect(await store.get(model, 8)).toBeUndefined()
    }
    for (const steps of [8.5, -8, 0, NaN, Infinity, 1e6])
      expect(await store.get('toy', steps)).toBeUndefined()
    expect(await store.get('toy', 9)).toBeUndefined()
    expect(await store.get('other', 8)).toBeUndefined()
    expect(seen).toEqual(['index.json'])
  })

  it('treats a missing root as no schedules yet', async () => {
    const store = fileScheduleStore(join(dir, 'nope'))
    expect((await store.index()).models).toEqual([])
    expect(await store.get('toy', 8)).toBeUndefined()
  })

  it('rejects a file whose content names another model or step count', async () => {
    const sched = fixtureSchedule('toy', 8)
    const store = readerScheduleStore(async (p) =>
      p === 'index.json'
        ? JSON.stringify({
            schema: 'dpcache-schedule-index/v1',
            models: [
              {
                model: 'toy',
                schedules: [{ steps: 9, file: 'toy/9.json', sha256: '0'.repeat(64), budgets: [3] }],
              },
            ],
          })
        : JSON.stringify(sched),
    )
    await expect(store.get('toy', 9)).rejects.toThrow(/holds toy at 8 steps/)
  })
})

describe('memoryScheduleStore', () => {
  it('indexes what it holds', async () => {
    const store = memoryScheduleStore([fixtureSchedule('b', 8), fixtureSchedule('a', 10)])
    expect((await store.index()).models.map((m) => m.model)).toEqual(['a', 'b'])
    expect((await store.get('a', 10))?.steps).toBe(10)
    expect(await store.get('a', 8)).toBeUndefined()
  })
})
