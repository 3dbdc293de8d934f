/**
 * Schedules on disk that fail verification cost only what they carry: the cache at their step
 * count. Plain sampling, other routes and other files keep working, and /healthz says why.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixtureSchedule, writeScheduleDir } from '../../test/fixtures/schedules.ts'
import { toyEngine, TOY } from '../../test/fixtures/toy.ts'
import { verifySchedules } from '../runtime/engine.ts'
import { fileScheduleStore } from '../runtime/schedule-files.ts'
import { createApp } from './index.ts'
import { localGenerate } from './local.ts'

const root = await mkdtemp(join(tmpdir(), 'dpcache-refusals-'))
afterAll(() => rm(root, { recursive: true, force: true }))
const engine = await toyEngine()

async function appOver(dir: string) {
  const store = fileScheduleStore(dir)
  await verifySchedules(engine.models(), store)
  return createApp({ schedules: store, generate: localGenerate(engine, store) })
}

const post = (app: Awaited<ReturnType<typeof appOver>>, body: object) =>
  app.request('/v1/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: TOY, class: 1, seed: 1, format: 'json', ...body }),
  })

describe('a tampered schedule file', async () => {
  const dir = join(root, 'tampered')
  await writeScheduleDir(dir, [fixtureSchedule(TOY, 10), fixtureSchedule(TOY, 20)])
  const file = join(dir, TOY, '10.json')
  const text = await readFile(file, 'utf8')
  await writeFile(file, text.replace('"keySteps": [', '"keySteps": [ '))
  const app = await appOver(dir)

  it('is refused; full-step generation at its step count still runs', async () => {
    const full = await post(app, {})
    expect(full.status).toBe(200)
    expect(((await full.json()) as any).nfe).toBe(10)
    const cached = await post(app, { budget: 5 })
    expect(cached.status).toBe(503)
    expect(((await cached.json()) as any).error).toMatchObject({
      code: 'schedule_refused',
      field: 'budget',
      allowed: [10],
    })
    const route = await app.request(`/v1/schedules/${TOY}/10?budget=5`)
    expect(route.status).toBe(503)
  })

  it('leaves the other files served and shows up in /healthz', async () => {
    expect((await post(app, { steps: 20, budget: 5 })).status).toBe(200)
    const health = (await (await app.request('/healthz')).json()) as any
    expect(health.schedules.refused).toEqual([
      { file: `${TOY}/10.json`, reason: expect.stringMatching(/sha256/) },
    ])
  })
})

describe('a schedule planned with another shift than the model samples with', async () => {
  const dir = join(root, 'shift')
  const shifted = fixtureSchedule(TOY, 10)
  shifted.solver.shift = 3
  await writeScheduleDir(dir, [shifted])
  const app = await appOver(dir)

  it('is refused at boot, naming both shifts', async () => {
    expect((await post(app, { budget: 5 })).status).toBe(503)
    const health = (await (await app.request('/healthz')).json()) as any
    expect(health.schedules.refused[0].reason).toMatch(/shift 3, the model samples with 1/)
  })
})

describe('a truncated index.json', async () => {
  const dir = join(root, 'index')
  await writeScheduleDir(dir, [fixtureSchedule(TOY, 10)])
  const index = join(dir, 'index.json')
  await writeFile(index, (await readFile(index, 'utf8')).slice(0, 50))
  const app = await appOver(dir)

  it('takes no route down: models, generate at full steps and health answer', async () => {
    const models = await app.request('/v1/models')
    expect(models.status).toBe(200)
    expect(((await models.json()) as any).models).toEqual([
      expect.objectContaining({ id: TOY, generate: true, schedules: [] }),
    ])
    expect((await post(app, {})).status).toBe(200)
    const health = (await (await app.request('/healthz')).json()) as any
    expect(health.schedules.refused).toEqual([{ file: 'index.json', reason: expect.any(String) }])
    expect((await app.request(`/v1/schedules/${TOY}/10`)).status).toBe(404)
  })
})
