/**
 * End to end over real HTTP: the Node host as `npm start` runs it (tsx, 127.0.0.1, PORT=0 for
 * a free port), the real demo model on onnxruntime-web wasm, the committed `schedules/`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { decode } from 'fast-png'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Schedule, ScheduleIndex } from '../../src/core/schedule.ts'
import { gridShape } from '../../src/runtime/png.ts'
import { runBadInputSuite } from '../contract/bad-input.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const MODEL = 'tiny-dit-mnist'
const index = JSON.parse(
  readFileSync(join(ROOT, 'schedules', 'index.json'), 'utf8'),
) as ScheduleIndex
const schedules = index.models.find((m) => m.model === MODEL)!.schedules
// the model's default step count, and a budget that really skips steps
const schedule = schedules.find((s) => s.steps === 50) ?? schedules[0]
const STEPS = schedule.steps
const BUDGET = schedule.budgets.find((b) => b >= 8 && b < STEPS) ?? schedule.budgets[0]
const { plans } = JSON.parse(
  readFileSync(join(ROOT, 'schedules', schedule.file), 'utf8'),
) as Schedule

let server: ChildProcess
let base = ''

beforeAll(async () => {
  const { API_TOKEN: _token, ...inherited } = process.env
  const env: NodeJS.ProcessEnv = { ...inherited, PORT: '0' }
  server = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  base = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
      // listening comes first; generate is served once the models are warm
      if (m && /dpcache-edge ready/.test(log)) resolve(m[1])
    }
    server.stdout!.on('data', onData)
    server.stderr!.on('data', onData)
    server.on('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)))
  })
}, 60_000)

afterAll(() => {
  server?.kill('SIGTERM')
})

const generate = (body: Record<string, unknown>, init: RequestInit = {}) =>
  fetch(`${base}/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, ...body }),
    ...init,
  })

/** Splits a decoded grid into its 28x28 tiles. */
function tiles(png: { width: number; data: ArrayLike<number> }, count: number): number[][] {
  const columns = png.width / 28
  return Array.from({ length: count }, (_, k) => {
    const out: number[] = []
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++)
        out.push(png.data[(Math.floor(k / columns) * 28 + y) * png.width + (k % columns) * 28 + x])
    return out
  })
}

describe('Node host over HTTP (real model)', () => {
  it('is healthy and lists the demo model', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({
      ok: true,
      generate: 'local',
    })
    const { models } = (await (await fetch(`${base}/v1/models`)).json()) as { models: any[] }
    expect(models.find((m) => m.id === MODEL)).toMatchObject({
      generate: true,
      classes: 10,
      image: { channels: 1, height: 28, width: 28 },
    })
  })

  for (const batch of [1, 3, 5]) {
    it(`returns a PNG of ${batch} 28x28 digit(s) for batch ${batch}`, async () => {
      const res = await generate({ class: 7, seed: 11, steps: STEPS, budget: BUDGET, batch })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/png')
      const png = decode(new Uint8Array(await res.arrayBuffer()))
      const { columns, rows } = gridShape(batch)
      expect([png.width, png.height, png.channels, png.depth]).toEqual([
        columns * 28,
        rows * 28,
        1,
        8,
      ])
      expect(res.headers.get('x-grid')).toBe(`${columns}x${rows}`)
      const all = tiles(png, columns * rows)
      for (const t of all.slice(0, batch))
        expect(Math.max(...t) - Math.min(...t)).toBeGreaterThan(0) // an image, not a blank
      // unused grid cells stay black
      for (const t of all.slice(batch)) expect(Math.max(...t)).toBe(0)
    })
  }

  it('returns JSON whose NFE equals the budget, with the plan key steps and timing', async () => {
    const res = await generate({
      class: 2,
      seed: 5,
      steps: STEPS,
      budget: BUDGET,
      batch: 2,
      format: 'json',
    })
    expect(res.status).toBe(200)
    const out = (await res.json()) as any
    const plan = (await (
      await fetch(`${base}/v1/schedules/${MODEL}/${STEPS}?budget=${BUDGET}`)
    ).json()) as any
    expect(out).toMatchObject({
      model: MODEL,
      steps: STEPS,
      budget: BUDGET,
      nfe: BUDGET,
      keySteps: plan.plan.keySteps,
    })
    for (const k of ['totalMs', 'queueMs', 'trunkMs', 'headMs'])
      expect(out.timing[k]).toBeGreaterThanOrEqual(0)
    expect(out.timing.totalMs).toBeGreaterThanOrEqual(out.timing.trunkMs)
    expect(out.images.map((im: any) => im.seed)).toEqual([5, 6])
    for (const im of out.images) {
      const png = decode(Buffer.from(im.png, 'base64'))
      expect([png.width, png.height]).toEqual([28, 28])
    }
  })

  it('micro-batches concurrent requests that share model, steps, budget and guidance', async () => {
    // occupy the runner, then send four compatible requests: they wait together and run as one
    const busy = generate({ class: 0, steps: STEPS, budget: STEPS, batch: 4 })
    await new Promise((r) => setTimeout(r, 100))
    const res = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        generate({ class: k, seed: k, steps: STEPS, budget: BUDGET, format: 'json' }),
      ),
    )
    await busy
    expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect(res.map((r) => r.headers.get('x-batch'))).toEqual(Array(4).fill('requests=4; items=4'))
  })

  it('stops the work of a client that disconnects', async () => {
    const body = { class: 1, steps: STEPS, budget: STEPS, batch: 16 }
    // the same run to completion, timed in this test on this machine, is the yardstick
    const t0 = performance.now()
    expect((await generate({ ...body, seed: 1 })).status).toBe(200)
    const fullMs = performance.now() - t0
    const ac = new AbortController()
    const started = performance.now()
    const pending = generate({ ...body, seed: 2 }, { signal: ac.signal }).catch((e: Error) => e)
    await new Promise((r) => setTimeout(r, fullMs / 10))
    ac.abort()
    expect(await pending).toBeInstanceOf(Error)
    let stats = { queued: -1, running: -1 }
    while (performance.now() - started < 20_000) {
      stats = ((await (await fetch(`${base}/healthz`)).json()) as any).queue
      if (stats.running === 0) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(stats).toMatchObject({ queued: 0, running: 0 })
    // the cancelled run ends within a step or two of the abort, far short of a full run
    expect(performance.now() - started).toBeLessThan(fullMs * 0.6)
  })
})

describe('bad input over HTTP (real model)', () => {
  runBadInputSuite((path, init) => fetch(base + path, init), {
    model: MODEL,
    classes: 10,
    steps: STEPS,
    minBudget: Math.min(...schedule.budgets),
    missingSteps: 7,
    minCost: Math.min(...plans.map((p) => p.cost)),
    schedulesOnly: 'flux.1-dev',
    runnable: ['tiny-dit-mnist', 'tiny-dit-fashion'],
  })
})

/** One raw HTTP/1.1 exchange over a fresh socket; resolves with everything the server sent. */
function rawExchange(request: string): Promise<string> {
  const { port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request))
    let text = ''
    socket.on('data', (d) => (text += d))
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
}

describe('connections (real sockets)', () => {
  it('a 3 MB body gets 413 and the next request on the pooled client still works', async () => {
    const big = await generate({ class: 1, pad: 'x'.repeat(3_000_000) })
    expect(big.status).toBe(413)
    expect(big.headers.get('connection')).toBe('close')
    await big.text()
    for (let k = 0; k < 3; k++) {
      const next = await fetch(`${base}/healthz`)
      expect(next.status).toBe(200)
      await next.json()
    }
  })

  it("Node's own 400 and 431 carry the JSON envelope", async () => {
    const malformed = await rawExchange('GARBAGE\r\n\r\n')
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /)
    expect(JSON.parse(malformed.split('\r\n\r\n')[1]).error.code).toBe('bad_request')
    const huge = await rawExchange(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`,
    )
    expect(huge).toMatch(/^HTTP\/1\.1 431 /)
    expect(JSON.parse(huge.split('\r\n\r\n')[1]).error.code).toBe('headers_too_large')
  })
})

describe('catalogue over HTTP', () => {
  it('lists both runnable models and the paper models as schedules only', async () => {
    const { models } = (await (await fetch(`${base}/v1/models`)).json()) as {
      models: { id: string; generate: boolean; offers: string[]; defaultSteps?: number }[]
    }
    expect(models.map((m) => [m.id, m.offers])).toEqual([
      ['flux.1-dev', ['schedules']],
      ['tiny-dit-fashion', ['schedules', 'generate']],
      ['tiny-dit-mnist', ['schedules', 'generate']],
      ['wan2.1', ['schedules']],
    ])
    expect(models.find((m) => m.id === 'tiny-dit-fashion')?.defaultSteps).toBe(28)
  })

  it('samples the fashion model (shift 3) at its default 28 steps with a plan', async () => {
    const res = await fetch(`${base}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny-dit-fashion',
        class: 9,
        seed: 1,
        budget: 10,
        format: 'json',
      }),
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { steps: number; nfe: number; keySteps: number[] }
    expect(body.steps).toBe(28)
    expect(body.nfe).toBe(10)
    const plan = (await (
      await fetch(`${base}/v1/schedules/tiny-dit-fashion/28?budget=10`)
    ).json()) as {
      solver: { shift: number }
      plan: { keySteps: number[] }
    }
    expect(plan.solver.shift).toBe(3)
    expect(body.keySteps).toEqual(plan.plan.keySteps)
  })
})
