import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/hosts/worker.ts'
import { incoming } from './env.ts'

const BASE = 'https://edge.test'
const get = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(BASE + path, init))

/** The first model and step count the served index lists (the committed schedules). */
async function firstSchedule(): Promise<{ model: string; steps: number; budgets: number[] }> {
  const index = (await (
    await env.ASSETS.fetch('https://assets.local/schedules/index.json')
  ).json()) as {
    models: { model: string; schedules: { steps: number; budgets: number[] }[] }[]
  }
  const m = index.models[0]
  return { model: m.model, ...m.schedules[0] }
}

describe('Worker: schedules from the ASSETS binding', () => {
  it('lists models from the static index', async () => {
    const { model, steps, budgets } = await firstSchedule()
    const res = await get('/v1/models')
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      models: { id: string; generate: boolean; schedules: { steps: number; budgets: number[] }[] }[]
    }
    const m = body.models.find((x) => x.id === model)!
    expect(m.generate).toBe(false)
    expect(m.schedules.find((s) => s.steps === steps)?.budgets).toEqual(budgets)
  })

  it('serves a schedule with ETag and revalidating caching, and 304 on If-None-Match', async () => {
    const { model, steps } = await firstSchedule()
    const res = await get(`/v1/schedules/${model}/${steps}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, must-revalidate')
    const file = (await res.json()) as { model: string; steps: number; plans: { budget: number }[] }
    expect([file.model, file.steps]).toEqual([model, steps])
    // the same bytes the asset holds, parsed
    const raw = await (
      await env.ASSETS.fetch(`https://assets.local/schedules/${model}/${steps}.json`)
    ).json()
    expect(file).toEqual(raw)
    const tag = res.headers.get('etag')!
    const again = await get(`/v1/schedules/${model}/${steps}`, {
      headers: { 'If-None-Match': tag },
    })
    expect(again.status).toBe(304)
  })

  it('selects a plan and reports unknown models and steps as 404 with what exists', async () => {
    const { model, steps, budgets } = await firstSchedule()
    const plan = (await (
      await get(`/v1/schedules/${model}/${steps}?budget=${budgets[0]}`)
    ).json()) as { plan: { budget: number } }
    expect(plan.plan.budget).toBe(budgets[0])
    const unknown = await get(`/v1/schedules/nope/${steps}`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as any).error).toMatchObject({
      code: 'unknown_model',
      field: 'model',
    })
    const noSteps = await get(`/v1/schedules/${model}/999`)
    expect(((await noSteps.json()) as any).error).toMatchObject({
      code: 'unknown_steps',
      allowed: expect.arrayContaining([steps]),
    })
  })

  it('does not expose asset files at their own paths or outside the API', async () => {
    expect((await get('/index.json')).status).toBe(404)
    expect((await get('/wrangler.toml')).status).toBe(404)
    expect((await get('/models/tiny-dit-mnist/README.md')).status).toBe(404)
    expect((await get('/static/..%2F..%2Fwrangler.toml')).status).toBe(404)
    expect((await get('/v1/schedules/..%2F..%2Fwrangler.toml/1')).status).toBe(404)
  })

  it('answers /healthz and /openapi.json', async () => {
    expect(await (await get('/healthz')).json()).toEqual({
      ok: true,
      generate: 'remote',
      schedules: { refused: [] },
      hosts: [{ name: 'GENERATE', state: 'healthy', consecutiveFailures: 0, recentFailures: [] }],
    })
    const doc = (await (await get('/openapi.json')).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toContain('/v1/generate')
  })
})

describe('Worker: generate', () => {
  const body = JSON.stringify({ model: 'tiny-dit-mnist', class: 1, budget: 4 })
  const init = { method: 'POST', body, headers: { 'content-type': 'application/json' } }

  it('dispatches a valid request to the GENERATE service binding', async () => {
    const res = await get('/v1/generate', {
      ...init,
      headers: { ...init.headers, authorization: 'Bearer t' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-backend')).toBe('fake')
    const echo = (await res.json()) as {
      dispatched: boolean
      auth: string
      body: Record<string, unknown>
    }
    expect(echo.dispatched).toBe(true)
    expect(echo.auth).toBe('Bearer t')
    // validated and defaulted before it left the edge, with a seed drawn there
    expect(echo.body).toEqual({
      model: 'tiny-dit-mnist',
      class: 1,
      budget: 4,
      batch: 1,
      format: 'png',
      seed: expect.any(Number),
    })
  })

  it('validates at the edge: bad input never reaches the backend', async () => {
    const res = await get('/v1/generate', {
      ...init,
      body: JSON.stringify({ model: 'tiny-dit-mnist', class: 1, batch: 99 }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error).toMatchObject({
      field: 'batch',
      allowed: { min: 1, max: 16 },
    })
  })

  it('answers 503 with a JSON reason when no backend is configured', async () => {
    const bare = { ...env, GENERATE: undefined, GENERATE_URL: undefined }
    const res = await worker.fetch(
      incoming(`${BASE}/v1/generate`, init),
      bare,
      {} as ExecutionContext,
    )
    expect(res.status).toBe(503)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('generate_unavailable')
    expect(error.message).toMatch(/GENERATE_URL/)
    // schedules still work on that host
    const { model, steps } = await firstSchedule()
    const sched = await worker.fetch(
      incoming(`${BASE}/v1/schedules/${model}/${steps}`),
      bare,
      {} as ExecutionContext,
    )
    expect(sched.status).toBe(200)
  })

  it('requires the bearer token for generate only, when API_TOKEN is set', async () => {
    const locked = { ...env, API_TOKEN: 'edge-secret' }
    const ctx = {} as ExecutionContext
    const no = await worker.fetch(incoming(`${BASE}/v1/generate`, init), locked, ctx)
    expect(no.status).toBe(401)
    const yes = await worker.fetch(
      incoming(`${BASE}/v1/generate`, {
        ...init,
        headers: { ...init.headers, authorization: 'Bearer edge-secret' },
      }),
      locked,
      ctx,
    )
    expect(yes.status).toBe(200)
    expect((await worker.fetch(incoming(`${BASE}/v1/models`), locked, ctx)).status).toBe(200)
  })
})

describe('Worker: playground, /docs and CORS from the same static assets', () => {
  it('serves the playground, the docs UI and what the page loads', async () => {
    const page = await get('/')
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('DPCache playground')
    const scripts = [...html.matchAll(/src="(\/static\/[^"]+)"/g)].map((m) => m[1])
    expect(scripts.length).toBeGreaterThan(0)
    for (const src of scripts) expect((await get(src)).status, src).toBe(200)
    const docs = await (await get('/docs')).text()
    expect(docs).toContain("url: '/openapi.json'")
    expect((await get('/static/swagger-ui-dist/swagger-ui-bundle.js')).status).toBe(200)
    expect((await get('/static/ort/ort-wasm-simd-threaded.wasm')).status).toBe(200)
  })

  it('serves model graphs that match their manifest, and the cost tensors', async () => {
    const manifest = (await (await get('/models/tiny-dit-mnist/manifest.json')).json()) as {
      graphs: Record<string, { file: string; sha256: string }>
    }
    for (const g of Object.values(manifest.graphs)) {
      const bytes = await (await get(`/models/tiny-dit-mnist/${g.file}`)).arrayBuffer()
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      expect(Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')).toBe(g.sha256)
    }
    const { model, steps } = await firstSchedule()
    expect((await get(`/schedules/${model}/${steps}.pact.npy`)).status).toBe(200)
  })

  it("leaves WebGPU's runtime out (over the 25 MiB asset limit): the page falls back to wasm", async () => {
    expect((await get('/static/ort/ort-wasm-simd-threaded.asyncify.wasm')).status).toBe(404)
  })

  it('answers CORS preflights when CORS_ORIGINS is set, and not otherwise', async () => {
    const init = {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    }
    const ctx = {} as ExecutionContext
    const open = { ...env, CORS_ORIGINS: 'https://app.example' }
    const res = await worker.fetch(incoming(`${BASE}/v1/generate`, init), open, ctx)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    const off = await worker.fetch(incoming(`${BASE}/v1/generate`, init), env, ctx)
    expect(off.headers.get('access-control-allow-origin')).toBeNull()
  })
})
