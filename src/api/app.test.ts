import { decode } from 'fast-png'
import { describe, expect, it } from 'vitest'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { SCHEDULE_SCHEMA } from '../core/schedule.ts'
import { createApp } from './index.ts'
import { localGenerate } from './local.ts'

const store = toyStore()
const engine = await toyEngine()
const app = createApp({ schedules: store, generate: localGenerate(engine, store) })

const post = (body: unknown, headers: Record<string, string> = {}) =>
  app.request('/v1/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe('read routes', () => {
  it('GET /healthz', async () => {
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      ok: true,
      generate: 'local',
      queue: { queued: 0, running: 0, batches: 0 },
      schedules: { refused: [] },
    })
  })

  it('GET /v1/models merges the engine and the schedule index', async () => {
    const { models } = (await (await app.request('/v1/models')).json()) as {
      models: Record<string, unknown>[]
    }
    expect(models.map((m) => [m.id, m.generate])).toEqual([
      ['other-model', false],
      [TOY, true],
    ])
    const toy = models[1] as {
      classes: number
      defaultSteps: number
      schedules: { steps: number; budgets: number[]; url: string }[]
    }
    expect(toy.classes).toBe(10)
    expect(toy.defaultSteps).toBe(10)
    expect(toy.schedules.map((s) => [s.steps, s.budgets[0], s.budgets.at(-1), s.url])).toEqual([
      [10, 3, 10, `/v1/schedules/${TOY}/10`],
      [20, 3, 20, `/v1/schedules/${TOY}/20`],
    ])
  })

  it('serves a schedule file with strong caching and answers 304 to its ETag', async () => {
    const res = await app.request(`/v1/schedules/${TOY}/20`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, must-revalidate')
    const tag = res.headers.get('etag')!
    expect(tag).toMatch(/^"[0-9a-f]{40}"$/)
    const body = (await res.json()) as { schema: string; plans: unknown[] }
    expect(body.schema).toBe(SCHEDULE_SCHEMA)
    expect(body.plans).toHaveLength(18)
    const again = await app.request(`/v1/schedules/${TOY}/20`, {
      headers: { 'If-None-Match': tag },
    })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(tag)
    expect(again.headers.get('cache-control')).toContain('must-revalidate')
    expect(await again.text()).toBe('')
    const listed = await app.request(`/v1/schedules/${TOY}/20`, {
      headers: { 'If-None-Match': `"other", W/${tag}` },
    })
    expect(listed.status).toBe(304)
    const stale = await app.request(`/v1/schedules/${TOY}/20`, {
      headers: { 'If-None-Match': '"other"' },
    })
    expect(stale.status).toBe(200)
  })

  it('selects one plan by budget, speedup or maxCost', async () => {
    const get = async (q: string) =>
      (await (await app.request(`/v1/schedules/${TOY}/20?${q}`)).json()) as {
        steps: number
        plan: { budget: number; cost: number }
      }
    expect((await get('budget=5')).plan.budget).toBe(5)
    const s = await get('speedup=4')
    expect(s.steps).toBe(20)
    expect(s.plan.budget).toBe(5) // cheapest of the plans with 20 / K >= 4 (K <= 5)
    const file = (await (await app.request(`/v1/schedules/${TOY}/20`)).json()) as {
      plans: { budget: number; cost: number }[]
    }
    const c = file.plans.find((p) => p.budget === 8)!.cost
    expect((await get(`maxCost=${c}`)).plan.budget).toBe(8)
    const r1 = await app.request(`/v1/schedules/${TOY}/20?budget=5`)
    const r2 = await app.request(`/v1/schedules/${TOY}/20?budget=6`)
    expect(r1.headers.get('etag')).not.toBe(r2.headers.get('etag'))
  })

  it('GET /openapi.json is generated from the schemas', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as any
    expect(doc.openapi).toBe('3.1.0')
    const body = doc.paths['/v1/generate'].post.requestBody.content['application/json'].schema
    expect(body.properties.batch).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 16,
      default: 1,
    })
    expect(body.properties.format.enum).toEqual(['png', 'json'])
    expect(body.required).toEqual(['model', 'class'])
    const params = doc.paths['/v1/schedules/{model}/{steps}'].get.parameters.map(
      (p: { name: string }) => p.name,
    )
    expect(params).toEqual(['model', 'steps', 'budget', 'speedup', 'maxCost', 'format'])
  })
})

describe('POST /v1/generate (real engine, toy model)', () => {
  it('returns JSON with NFE equal to the budget and the plan key steps', async () => {
    const res = await post({ model: TOY, class: 3, seed: 7, budget: 5, batch: 2, format: 'json' })
    expect(res.status).toBe(200)
    const out = (await res.json()) as any
    const plan = (await (await app.request(`/v1/schedules/${TOY}/10?budget=5`)).json()) as any
    expect(out).toMatchObject({
      model: TOY,
      steps: 10,
      budget: 5,
      nfe: 5,
      keySteps: plan.plan.keySteps,
    })
    expect(Object.keys(out.timing).sort()).toEqual(['headMs', 'queueMs', 'totalMs', 'trunkMs'])
    expect(out.images.map((im: any) => [im.class, im.seed])).toEqual([
      [3, 7],
      [3, 8],
    ])
    const png = decode(Uint8Array.from(atob(out.images[0].png), (ch) => ch.charCodeAt(0)))
    expect([png.width, png.height, png.channels]).toEqual([4, 4, 1])
  })

  it('returns a PNG grid for batch > 1, reproducible by seed', async () => {
    const res = await post({ model: TOY, class: 1, seed: 3, speedup: 2, batch: 3 })
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('x-grid')).toBe('2x2')
    expect(res.headers.get('x-budget')).toBe('5')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(decode(bytes)).toMatchObject({ width: 8, height: 8 })
    const again = new Uint8Array(
      await (await post({ model: TOY, class: 1, seed: 3, speedup: 2, batch: 3 })).arrayBuffer(),
    )
    expect(again).toEqual(bytes)
  })

  it('defaults to the model default steps and full compute', async () => {
    const res = await post({ model: TOY, class: 0, format: 'json' })
    const out = (await res.json()) as any
    expect([out.steps, out.budget, out.nfe]).toEqual([10, 10, 10])
  })

  it('micro-batches concurrent requests that share a plan into one run', async () => {
    const reqs = [0, 1, 2, 3].map((k) =>
      post({ model: TOY, class: k, seed: k, steps: 20, budget: 6, format: 'json' }),
    )
    const res = await Promise.all(reqs)
    expect(res.map((r) => r.headers.get('x-batch'))).toEqual(Array(4).fill('requests=4; items=4'))
    const single = (await (
      await post({ model: TOY, class: 2, seed: 2, steps: 20, budget: 6, format: 'json' })
    ).json()) as any
    // batching does not change a row's result
    expect(((await res[2].json()) as any).images[0].png).toBe(single.images[0].png)
  })

  it('asks for a token only when one is configured', async () => {
    const locked = createApp({
      schedules: store,
      generate: localGenerate(engine, store),
      apiToken: 's3cret',
    })
    const body = JSON.stringify({ model: TOY, class: 0, budget: 3, format: 'json' })
    const send = (auth?: string) =>
      locked.request('/v1/generate', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      })
    expect((await send()).status).toBe(401)
    expect((await send()).headers.get('www-authenticate')).toContain('Bearer')
    expect((await send('Bearer nope')).status).toBe(401)
    expect((await send('Bearer s3cret')).status).toBe(200)
    expect((await locked.request(`/v1/schedules/${TOY}/10`)).status).toBe(200)
  })

  it('answers 503 with a reason when no backend is configured', async () => {
    const bare = createApp({ schedules: store })
    const res = await bare.request('/v1/generate', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(503)
    expect(((await res.json()) as any).error.code).toBe('generate_unavailable')
  })
})

describe('HTTP details', () => {
  it('405 names the allowed methods in Allow and in the envelope', async () => {
    const res = await app.request('/v1/models', { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    expect(((await res.json()) as { error: { allowed: string[] } }).error.allowed).toEqual([
      'GET',
      'HEAD',
    ])
    const gen = await app.request('/v1/generate')
    expect(gen.headers.get('allow')).toBe('POST')
  })

  it('compresses JSON for clients that accept it, never PNGs', async () => {
    const res = await app.request('/openapi.json', { headers: { 'accept-encoding': 'gzip' } })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    const text = await new Response(res.body!.pipeThrough(new DecompressionStream('gzip'))).text()
    expect(JSON.parse(text).openapi).toBe('3.1.0')
    const png = await post({ model: TOY, class: 1, seed: 1 }, { 'accept-encoding': 'gzip' })
    expect(png.headers.get('content-type')).toBe('image/png')
    expect(png.headers.get('content-encoding')).toBeNull()
  })

  it('an early error on an unread body ends the connection instead of leaving it half-read', async () => {
    const res = await app.request('/v1/generate', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(100),
    })
    expect(res.status).toBe(415)
    expect(res.headers.get('connection')).toBe('close')
  })
})

describe('catalogue', () => {
  it('exports a plan as cache-dit takes it: N ints, K ones, exactly at the key steps', async () => {
    const plan = (await (await app.request(`/v1/schedules/${TOY}/10?budget=5`)).json()) as {
      plan: { keySteps: number[] }
    }
    const res = await app.request(`/v1/schedules/${TOY}/10?budget=5&format=cache-dit`)
    expect(res.status).toBe(200)
    const cfg = (await res.json()) as {
      num_inference_steps: number
      steps_computation_mask: number[]
      steps_computation_policy: string
      taylorseer_order: number
    }
    expect(cfg.num_inference_steps).toBe(10)
    expect(cfg.steps_computation_mask).toHaveLength(10)
    expect(cfg.steps_computation_mask.reduce((a, b) => a + b, 0)).toBe(5)
    const ones = cfg.steps_computation_mask.flatMap((v, i) => (v === 1 ? [i] : []))
    expect(ones).toEqual(plan.plan.keySteps)
    expect(cfg.steps_computation_policy).toBe('static')
    expect(cfg.taylorseer_order).toBe(1)
  })

  it('lists what each model offers and refuses generate for a schedules-only one', async () => {
    const { models } = (await (await app.request('/v1/models')).json()) as {
      models: { id: string; offers: string[] }[]
    }
    expect(models.map((m) => [m.id, m.offers])).toEqual([
      ['other-model', ['schedules']],
      [TOY, ['schedules', 'generate']],
    ])
    const res = await post({ model: 'other-model', class: 0 })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('schedules_only')
    expect(error.message).toContain('/v1/schedules/other-model/')
  })
})
