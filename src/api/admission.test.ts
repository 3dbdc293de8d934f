/**
 * Admission and deadlines on the demo model (real engine, wasm and native cpu): TIMEOUT_MS
 * bounds queueing plus running and is not overshot by more than 10 % (the run is aborted at
 * the deadline: the sampler sees the signal between steps), and the Retry-After of a 429
 * under a burst is within 2x of the wait the client would really have had.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadEngine, verifySchedules, type Engine } from '../runtime/engine.ts'
import { fileScheduleStore } from '../runtime/schedule-files.ts'
import type { Backend } from '../runtime/ort.ts'
import { createApp } from './index.ts'
import { localGenerate, type LocalOptions } from './local.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const store = fileScheduleStore(join(ROOT, 'schedules'))
const engines = new Map<Backend, Engine>()
async function engine(backend: Backend): Promise<Engine> {
  let e = engines.get(backend)
  if (!e) {
    e = await loadEngine({
      modelsDir: join(ROOT, 'models'),
      modelIds: ['tiny-dit-mnist'],
      readFile: async (p) => new Uint8Array(await readFile(p)),
      backend,
    })
    // as the hosts do at boot: the first request should not pay for reading schedules
    await verifySchedules(e.models(), store)
    engines.set(backend, e)
  }
  return e
}

async function host(backend: Backend, opts: LocalOptions & { maxBatch: number }) {
  const e = await engine(backend)
  await e.warm(opts.maxBatch)
  const generate = localGenerate(e, store, opts)
  return { app: createApp({ schedules: store, generate }), generate }
}

const post = (app: ReturnType<typeof createApp>, body: Record<string, unknown>) =>
  app.request('/v1/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-dit-mnist', format: 'json', ...body }),
  })

// A wasm graph call blocks the event loop, so an answer can be late by about one call (and
// on a loaded machine the requests themselves are parsed late): one-row runs keep calls to a
// few ms, and wasm gets the longer budget so 10 % of it is more than a call under load.
describe.each([
  ['wasm', 2000],
  ['cpu', 1000],
] as const)('TIMEOUT_MS on %s', (backend, timeoutMs) => {
  it('answers every request of a burst by its deadline (1.1 x budget + 50 ms) and stops the run', async () => {
    // one-row, 50-step runs one after another (maxBatch 1); the budget counts queueing and
    // running. How long a run takes depends on the machine (native cpu on a fast one is
    // several times quicker than here), so the burst is sized from a measured run to hold
    // three budgets of work: some requests must then miss the deadline on any machine.
    const { app, generate } = await host(backend, { maxBatch: 1, timeoutMs })
    // the budget starts when the handler sees a request: pay the request path's first-use
    // costs (lazy compilation, under vitest also module transforms) before measuring
    expect((await post(app, { class: 99 })).status).toBe(400)
    const runs: number[] = []
    for (let k = 0; k < 3; k++) {
      const t = performance.now()
      expect((await post(app, { class: k, seed: 100 + k, guidance: 1 })).status).toBe(200)
      runs.push(performance.now() - t)
    }
    const runMs = runs.sort((a, b) => a - b)[1]
    const requests = Math.min(500, Math.max(6, Math.ceil((3 * timeoutMs) / runMs)))
    const t0 = performance.now()
    const answers = await Promise.all(
      Array.from({ length: requests }, async (_, k) => {
        const res = await post(app, { class: k % 10, seed: k, guidance: 1 })
        return { status: res.status, ms: performance.now() - t0, body: (await res.json()) as any }
      }),
    )
    const late = answers.filter((a) => a.status === 504)
    console.log(
      `${backend}: ${answers.length - late.length} in time, 504s after ${late.map((a) => a.ms.toFixed(0)).join(', ')} ms (budget ${timeoutMs}, one run ${runMs.toFixed(0)} ms)`,
    )
    expect(late.length).toBeGreaterThan(0)
    for (const a of answers) {
      expect([200, 504]).toContain(a.status)
      expect(a.ms).toBeLessThanOrEqual(1.1 * timeoutMs + 50)
      if (a.status === 504) {
        expect(a.body.error.code).toBe('timeout')
        expect(a.ms).toBeGreaterThanOrEqual(timeoutMs - 1)
      }
    }
    // aborted, not left running: the runner is free within a step or two
    for (let k = 0; k < 20 && generate.stats!().running > 0; k++)
      await new Promise((r) => setTimeout(r, 5))
    expect(generate.stats!()).toMatchObject({ running: 0, queued: 0 })
  })
})

// sized so the queue takes a few seconds to drain: Retry-After is in whole seconds
describe.each([
  ['wasm', 4],
  ['cpu', 8],
] as const)('Retry-After under a burst on %s', (backend, batch) => {
  it('is within 2x of the real wait for the queue to drain', async () => {
    // each request fills a run on its own (batch = maxBatch): 1 runs, 3 wait, the 5th is refused
    const { app, generate } = await host(backend, {
      maxBatch: batch,
      maxQueued: 3,
      timeoutMs: 120_000,
    })
    // Retry-After is in whole seconds, so the queue must take a few to drain on any machine:
    // the step count is sized from a measured run (about 2.5 s for the three and a bit runs,
    // from the step counts the model has schedules for)
    const t = performance.now()
    expect((await post(app, { class: 0, seed: 50, batch, steps: 20 })).status).toBe(200)
    const perStep = (performance.now() - t) / 20
    const steps = [20, 28, 50].find((n) => 3.5 * n * perStep >= 2500) ?? 50
    const inQueue = () => generate.stats!().queued + generate.stats!().running
    const accepted: (Promise<Response> | Response)[] = []
    for (let k = 0; k < 4; k++) {
      accepted.push(post(app, { class: k, seed: k, batch, steps }))
      // wait until it is in (a wasm run blocks the event loop a graph call at a time)
      for (let t = 0; t < 2000 && inQueue() < k + 1; t++) await new Promise((r) => setTimeout(r, 1))
    }
    expect(generate.stats!()).toMatchObject({ running: 1, queued: 3 })
    const refused = await post(app, { class: 9, seed: 9, batch, steps })
    const knockedAt = performance.now()
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    const statuses = (await Promise.all(accepted)).map((r) => r.status)
    const wait = (performance.now() - knockedAt) / 1000
    console.log(
      `${backend}: ${steps} steps, Retry-After ${retryAfter} s, queue drained after ${wait.toFixed(2)} s`,
    )
    expect(statuses).toEqual([200, 200, 200, 200])
    expect(retryAfter).toBeGreaterThanOrEqual(wait / 2)
    expect(retryAfter).toBeLessThanOrEqual(wait * 2)
  })
})
