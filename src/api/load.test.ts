import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { createApp } from './index.ts'
import { localGenerate, type LocalOptions } from './local.ts'
import type { Denoiser } from '../core/sampler.ts'
import { createEngine, loadModel } from '../runtime/engine.ts'

const TOY_DIR = join(import.meta.dirname, '..', 'runtime', 'testdata', TOY)

const store = toyStore()
const engine = await toyEngine()
const appWith = (opts: LocalOptions) =>
  createApp({ schedules: store, generate: localGenerate(engine, store, opts) })
const post = async (app: ReturnType<typeof appWith>, body: unknown, signal?: AbortSignal) =>
  app.request('/v1/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  })

// full 20-step runs of 16 images: slow enough (tens of ms) to keep the runner busy
const heavy = (budget: number) => ({
  model: TOY,
  class: 1,
  steps: 20,
  budget,
  batch: 16,
  format: 'json',
})

describe('generate under load (real engine, toy model)', () => {
  it('answers 429 with Retry-After once the queue bound is reached', async () => {
    const app = appWith({ maxQueued: 2 })
    // different budgets cannot share a run: two may wait, the rest are turned away
    const res = await Promise.all([20, 19, 18, 17, 16, 15].map((b) => post(app, heavy(b))))
    const statuses = res.map((r) => r.status)
    expect(statuses[0]).toBe(200)
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    const full = res.filter((r) => r.status === 429)
    expect(full.length).toBeGreaterThanOrEqual(1)
    expect(Number(full[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await full[0].json()) as any).error.code).toBe('queue_full')
  })

  it('answers 504 when a request outlives its timeout', async () => {
    const app = appWith({ timeoutMs: 1 })
    const res = await post(app, heavy(20))
    expect(res.status).toBe(504)
    expect(((await res.json()) as any).error.code).toBe('timeout')
  })

  it('cancels the run of a client that goes away, mid-run', async () => {
    // the toy behind a trunk that counts its calls, so the test sees how far the run went
    const model = await loadModel(TOY_DIR, async (p) => new Uint8Array(await readFile(p)))
    let trunkCalls = 0
    const inner = model.denoiser
    const counting: Denoiser = {
      imageDims: inner.imageDims,
      featureDims: inner.featureDims,
      nullClass: inner.nullClass,
      trunk: (...args) => ((trunkCalls += 1), inner.trunk(...args)),
      head: (...args) => inner.head(...args),
    }
    const backend = localGenerate(
      createEngine(new Map([[TOY, { ...model, denoiser: counting }]])),
      store,
    )
    const app = createApp({ schedules: store, generate: backend })
    const ac = new AbortController()
    const pending = post(app, heavy(20), ac.signal)
    // abort once the run has started and done some work, so the sampler (not the queue) must stop it
    for (let k = 0; k < 2000 && trunkCalls < 2; k++) await new Promise((r) => setTimeout(r, 1))
    expect(trunkCalls).toBeGreaterThanOrEqual(2)
    ac.abort()
    const res = await pending.catch((e: unknown) => e)
    // app.request either surfaces the abort or the 499 envelope; either way the runner is freed
    if (res instanceof Response) expect(res.status).toBe(499)
    for (let k = 0; k < 400 && backend.stats!().running > 0; k++)
      await new Promise((r) => setTimeout(r, 5))
    expect(backend.stats!()).toMatchObject({ queued: 0, running: 0 })
    // a full 20-step run makes 20 trunk calls; the cancelled one stopped within a step or two
    expect(trunkCalls).toBeLessThan(10)
  })
})
