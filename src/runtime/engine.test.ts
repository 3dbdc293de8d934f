import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pactIndex } from '../core/pact.ts'
import { planAll } from '../core/planner.ts'
import type { Schedule, ScheduleStore } from '../core/schedule.ts'
import { maxAbsDiff } from '../core/tensor.ts'
import { PlanError } from '../core/resolve.ts'
import { createEngine, loadModel, resolveRequest, type Engine } from './engine.ts'
import { modelFingerprint, parseManifest } from './manifest.ts'

const toyDir = join(import.meta.dirname, 'testdata', 'toy-single')
const read = async (p: string) => new Uint8Array(await readFile(p))

/** A store over schedules held in memory (the file and ASSETS stores are tested with the API). */
function memoryStore(schedules: Schedule[]): ScheduleStore {
  return {
    index: async () => ({ schema: 'dpcache-schedule-index/v1', models: [] }),
    get: async (model, steps) => schedules.find((s) => s.model === model && s.steps === steps),
  }
}

async function toySchedule(fingerprint: string | null): Promise<Schedule> {
  const steps = 10
  const data = new Float64Array(steps * (steps + 1) * (steps + 1)).fill(Infinity)
  for (let i = 0; i < steps; i++)
    for (let p = 0; p < Math.max(i, 1); p++)
      for (let j = i + 1; j <= steps; j++) data[pactIndex(steps, p, i, j)] = (j - i) ** 2 + 0.1 * p
  const plans = planAll({ steps, data }, { forcedFirst: 1 })
  return {
    schema: 'dpcache-schedule/v1',
    model: 'toy-single',
    modelSha256: fingerprint,
    steps,
    solver: { kind: 'flow-euler', shift: 1 },
    forecaster: { kind: 'taylor', order: 1, cost: '3d', includeArrival: true, metric: 'l1' },
    calibration: {
      source: 'imported',
      samples: null,
      seeds: [],
      classes: [],
      guidance: null,
      pactFile: 'toy-single/10.pact.npy',
      pactSha256: '0'.repeat(64),
    },
    planner: { method: 'exact', forcedFirst: 1, forcedLast: 0, maxJump: steps },
    plans: plans.map((p) => ({ ...p, nfe: p.budget, speedup: steps / p.budget })),
  }
}

describe('single-graph model through onnxruntime-web (wasm)', async () => {
  const model = await loadModel(toyDir, read)
  const schedule = await toySchedule(model.fingerprint)
  const engine = createEngine(new Map([['toy-single', model]]))
  const store = memoryStore([schedule])
  const info = engine.models()[0]
  /** The request path the hosts take: resolve against the store, then run the plan. */
  const run = async (
    e: Engine,
    s: ScheduleStore,
    req: {
      steps?: number
      budget?: number
      items?: { class: number; seed: number }[]
      signal?: AbortSignal
    },
  ) =>
    e.generate({
      plan: await resolveRequest(e.models()[0], s, { steps: req.steps ?? 10, budget: req.budget }),
      guidance: 2,
      items: req.items ?? [{ class: 1, seed: 1 }],
      signal: req.signal,
    })

  it('lists the model from its manifest', () => {
    expect(engine.models()).toEqual([
      {
        id: 'toy-single',
        classes: 10,
        nullClass: 10,
        defaultGuidance: 2,
        defaultSteps: 10,
        shift: 1,
        fingerprint: model.fingerprint,
        image: { channels: 1, height: 4, width: 4 },
      },
    ])
  })

  it('counts one trunk call per key step and follows the plan', async () => {
    for (const budget of [3, 5, 10]) {
      const out = await run(engine, store, { budget, items: [{ class: 3, seed: 1 }] })
      expect(out.nfe).toBe(budget)
      expect(out.keySteps).toHaveLength(budget)
      if (budget < 10)
        expect(out.keySteps).toEqual(schedule.plans.find((p) => p.budget === budget)!.keySteps)
      expect(out.images[0].pixels).toHaveLength(16)
    }
  })

  it('batch of 4 equals 4 single runs; same seed, same image', async () => {
    const items = [0, 1, 2, 3].map((k) => ({ class: k * 2, seed: 100 + k }))
    const batch = await run(engine, store, { budget: 4, items })
    for (const [k, item] of items.entries()) {
      const single = await run(engine, store, { budget: 4, items: [item] })
      expect(maxAbsDiff(batch.images[k].pixels, single.images[0].pixels)).toBeLessThan(1e-5)
      const again = await run(engine, store, { budget: 4, items: [item] })
      expect(again.images[0].pixels).toEqual(single.images[0].pixels)
    }
  })

  it('applies the per-segment orders of a v2 plan, resolved from the schedule', async () => {
    const v2 = {
      ...schedule,
      schema: 'dpcache-schedule/v2' as const,
      plans: schedule.plans.map((p) => ({
        ...p,
        orders: p.keySteps.map((_, m) => (m % 2 === 0 ? 0 : 2)),
      })),
    }
    const item = { class: 3, seed: 7 }
    const resolved = await resolveRequest(info, memoryStore([v2]), { steps: 10, budget: 4 })
    expect(resolved.orders).toEqual([0, 2, 0, 2])
    const a = await run(engine, memoryStore([v2]), { budget: 4, items: [item] })
    const b = await run(engine, store, { budget: 4, items: [item] })
    expect(a.keySteps).toEqual(b.keySteps)
    expect(maxAbsDiff(a.images[0].pixels, b.images[0].pixels)).toBeGreaterThan(1e-4)
    // all-order-1 segments are the v1 plan exactly
    const ones = {
      ...v2,
      plans: schedule.plans.map((p) => ({ ...p, orders: p.keySteps.map(() => 1) })),
    }
    const c = await run(engine, memoryStore([ones]), { budget: 4, items: [item] })
    expect(c.images[0].pixels).toEqual(b.images[0].pixels)
  })

  it('forecasts in the spaces of a v3 schedule, resolved from it', async () => {
    const v3 = {
      ...schedule,
      schema: 'dpcache-schedule/v3' as const,
      forecaster: { ...schedule.forecaster, spaces: ['feature' as const, 'noise' as const] },
    }
    const item = { class: 5, seed: 11 }
    const resolved = await resolveRequest(info, memoryStore([v3]), { steps: 10, budget: 4 })
    expect(resolved.spaces).toEqual(['feature', 'noise'])
    const a = await run(engine, memoryStore([v3]), { budget: 4, items: [item] })
    const b = await run(engine, store, { budget: 4, items: [item] })
    expect(a.keySteps).toEqual(b.keySteps)
    expect(maxAbsDiff(a.images[0].pixels, b.images[0].pixels)).toBeGreaterThan(1e-4)
    // the feature alone is the v2 forecast exactly
    const feature = { ...v3, forecaster: { ...v3.forecaster, spaces: ['feature' as const] } }
    const c = await run(engine, memoryStore([feature]), { budget: 4, items: [item] })
    expect(c.images[0].pixels).toEqual(b.images[0].pixels)
  })

  it("forecasts each segment of a v4 plan in that plan's spaces", async () => {
    const base = {
      ...schedule,
      schema: 'dpcache-schedule/v4' as const,
      forecaster: { ...schedule.forecaster, spaces: ['feature' as const, 'noise' as const] },
    }
    const withSpaces = (sets: (k: number) => string) => ({
      ...base,
      plans: schedule.plans.map((p) =>
        p.budget === 4 ? { ...p, spaces: p.keySteps.map((_, k) => sets(k)) } : p,
      ),
    })
    const v4 = withSpaces((k) => (k % 2 ? 'noise' : 'feature'))
    const item = { class: 5, seed: 11 }
    const resolved = await resolveRequest(info, memoryStore([v4]), { steps: 10, budget: 4 })
    expect(resolved.segmentSpaces).toEqual(['feature', 'noise', 'feature', 'noise'])
    const a = await run(engine, memoryStore([v4]), { budget: 4, items: [item] })
    const uniform = await run(engine, memoryStore([base]), { budget: 4, items: [item] })
    expect(a.keySteps).toEqual(uniform.keySteps)
    expect(maxAbsDiff(a.images[0].pixels, uniform.images[0].pixels)).toBeGreaterThan(1e-4)
    // the schedule's spaces on every segment are the v3 forecast exactly
    const same = withSpaces(() => 'feature+noise')
    const c = await run(engine, memoryStore([same]), { budget: 4, items: [item] })
    expect(c.images[0].pixels).toEqual(uniform.images[0].pixels)
  })

  it('answers unservable requests with typed errors listing what exists', async () => {
    const gen = (over: {
      steps?: number
      budget?: number
      items?: { class: number; seed: number }[]
    }) => run(engine, store, { budget: 4, ...over })
    await expect(gen({ steps: 12 })).rejects.toMatchObject({
      code: 'unknown_steps',
      field: 'steps',
      allowed: [10],
    })
    await expect(gen({ budget: 11 })).rejects.toMatchObject({
      code: 'invalid_field',
      field: 'budget',
    })
    await expect(gen({ items: [{ class: 10, seed: 1 }] })).rejects.toMatchObject({
      code: 'invalid_field',
      field: 'class',
      allowed: { min: 0, max: 9 },
    })
    const plan = await resolveRequest(info, store, { steps: 10, budget: 4 })
    await expect(
      engine.generate({
        plan: { ...plan, model: 'nope' },
        guidance: 2,
        items: [{ class: 1, seed: 1 }],
      }),
    ).rejects.toBeInstanceOf(PlanError)
    // full compute at the default step count needs no schedule; other step counts need one
    expect((await run(engine, memoryStore([]), { budget: 10 })).nfe).toBe(10)
    await expect(gen({ steps: 12, budget: 12 })).rejects.toMatchObject({ code: 'unknown_steps' })
  })

  it('refuses a schedule calibrated on other weights', async () => {
    const stale = memoryStore([await toySchedule('f'.repeat(64))])
    await expect(run(engine, stale, { budget: 4 })).rejects.toMatchObject({
      code: 'schedule_mismatch',
      kind: 'unavailable',
    })
  })

  it('cancels through an AbortSignal', async () => {
    const ctrl = new AbortController()
    ctrl.abort()
    await expect(run(engine, store, { budget: 4, signal: ctrl.signal })).rejects.toThrow(/aborted/)
  })
})

describe('model loading', () => {
  it('refuses a graph whose sha256 differs from the manifest, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dpcache-model-'))
    await copyFile(join(toyDir, 'manifest.json'), join(dir, 'manifest.json'))
    const bytes = await read(join(toyDir, 'model.onnx'))
    bytes[bytes.length - 1] ^= 1
    await writeFile(join(dir, 'model.onnx'), bytes)
    await expect(loadModel(dir, read)).rejects.toThrow(
      /toy-single\/model\.onnx: sha256 [0-9a-f]{64} does not match/,
    )
  })

  it('checks inputs against the manifest before running, naming model, input and shape', async () => {
    const model = await loadModel(toyDir, read)
    await expect(
      model.denoiser.trunk(
        { data: new Float32Array(9), dims: [1, 1, 3, 3] },
        0.5,
        Int32Array.of(1),
      ),
    ).rejects.toThrow("toy-single/model: input 'x' has shape [1, 1, 3, 3], expected [B, 1, 4, 4]")
  })

  it('rejects invalid manifests with the field', async () => {
    const m = JSON.parse(await readFile(join(toyDir, 'manifest.json'), 'utf8'))
    m.graphs.model.file = '../escape.onnx'
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(/graphs\.model\.file/)
    const ok = parseManifest(JSON.parse(await readFile(join(toyDir, 'manifest.json'), 'utf8')), 'x')
    expect(await modelFingerprint(ok)).toMatch(/^[0-9a-f]{64}$/)
  })
})
