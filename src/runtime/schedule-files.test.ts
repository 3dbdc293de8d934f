import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureSchedule, writeScheduleDir } from '../../test/fixtures/schedules.ts'
import { fileScheduleStore } from './schedule-files.ts'
import { memoryScheduleStore, readerScheduleStore, ScheduleRefusedError } from './schedule-store.ts'

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
    const text = JSON.stringify(fixtureSchedule('toy', 8))
    const index = { steps: 9, file: 'toy/9.json', sha256: sha256(text), budgets: [3] }
    const store = readerScheduleStore(async (p) => (p === 'index.json' ? indexText([index]) : text))
    await expect(store.get('toy', 9)).rejects.toThrow(/holds toy at 8 steps/)
  })
})

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const indexText = (schedules: object[]) =>
  JSON.stringify({ schema: 'dpcache-schedule-index/v1', models: [{ model: 'toy', schedules }] })

describe('verification against the index (nothing on disk is trusted)', () => {
  const good = fixtureSchedule('toy', 8)
  const goodText = JSON.stringify(good)
  const entry = {
    steps: 8,
    file: 'toy/8.json',
    sha256: sha256(goodText),
    budgets: good.plans.map((p) => p.budget),
  }
  const storeOver = (file: string, idx = indexText([entry])) =>
    readerScheduleStore(async (p) => (p === 'index.json' ? idx : file))

  it('serves a file whose bytes and budgets match', async () => {
    const store = storeOver(goodText)
    expect((await store.get('toy', 8))?.plans).toHaveLength(good.plans.length)
    expect(store.refused()).toEqual([])
  })

  it('refuses a tampered plan (keys rewritten, still valid JSON and schema)', async () => {
    const tampered = structuredClone(good)
    const p = tampered.plans.find((x) => x.budget === 5)!
    p.keySteps = [0, 1, 2, 3, 4]
    p.mask = '11111000'
    const store = storeOver(JSON.stringify(tampered))
    await expect(store.get('toy', 8)).rejects.toBeInstanceOf(ScheduleRefusedError)
    expect(store.refused()).toEqual([
      { file: 'toy/8.json', reason: expect.stringMatching(/sha256 .* does not match index\.json/) },
    ])
  })

  it('refuses a file cut down to two plans even when its hash was updated', async () => {
    const cut = { ...good, plans: good.plans.slice(0, 2) }
    const text = JSON.stringify(cut)
    const store = storeOver(text, indexText([{ ...entry, sha256: sha256(text) }]))
    await expect(store.get('toy', 8)).rejects.toThrow(
      /has budgets 3,4, index\.json lists 3,4,5,6,7,8/,
    )
  })

  it('refuses a truncated file and keeps the verdict', async () => {
    const text = goodText.slice(0, 100)
    const store = storeOver(text, indexText([{ ...entry, sha256: sha256(text) }]))
    await expect(store.get('toy', 8)).rejects.toBeInstanceOf(ScheduleRefusedError)
    await expect(store.get('toy', 8)).rejects.toBeInstanceOf(ScheduleRefusedError)
    expect(store.refused()).toHaveLength(1)
  })

  it('a truncated index serves no schedules and says why, instead of failing every call', async () => {
    const store = storeOver(goodText, indexText([entry]).slice(0, 40))
    expect((await store.index()).models).toEqual([])
    expect(await store.get('toy', 8)).toBeUndefined()
    expect(store.refused()).toEqual([{ file: 'index.json', reason: expect.any(String) }])
  })

  it('refuse() records a verdict found elsewhere (e.g. a shift that does not fit the model)', async () => {
    const store = storeOver(goodText)
    store.refuse('toy', 8, 'planned with shift 3')
    await expect(store.get('toy', 8)).rejects.toThrow(/planned with shift 3/)
    expect(store.refused()).toEqual([{ file: 'toy/8.json', reason: 'planned with shift 3' }])
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
