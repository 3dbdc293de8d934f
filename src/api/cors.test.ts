import { describe, expect, it } from 'vitest'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { CORS_EXPOSED_HEADERS, parseCorsOrigins, type CorsOrigins } from './cors.ts'
import { parseHostEnv } from './env.ts'
import { createApp } from './index.ts'
import { localGenerate, type LocalOptions } from './local.ts'

const store = toyStore()
const engine = await toyEngine()
const appWith = (cors?: CorsOrigins, opts: LocalOptions = {}) =>
  createApp({ schedules: store, generate: localGenerate(engine, store, opts), cors })

const SITE = 'https://app.example.com'
const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': method,
    'Access-Control-Request-Headers': 'content-type, authorization',
  },
})
const generate = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', Origin: SITE },
  body: JSON.stringify(body),
})
const exposed = (res: Response) =>
  (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(',')

describe('CORS_ORIGINS', () => {
  it('is * for any origin, a list of bare origins, or empty for none', () => {
    expect(parseCorsOrigins('*')).toBe('*')
    expect(parseCorsOrigins(' ')).toEqual([])
    expect(parseCorsOrigins(`${SITE}, http://127.0.0.1:5173`)).toEqual([
      SITE,
      'http://127.0.0.1:5173',
    ])
  })

  it('refuses values that are not bare http(s) origins', () => {
    for (const bad of [
      `${SITE}/`,
      'app.example.com',
      'ftp://x.example',
      `*, ${SITE}`,
      `${SITE}/api`,
    ]) {
      expect(parseCorsOrigins(bad), bad).toBeUndefined()
    }
  })

  it('is read with the host environment: a bad value names the variable', () => {
    expect(parseHostEnv({ CORS_ORIGINS: `${SITE},http://127.0.0.1:8080` }).CORS_ORIGINS).toEqual([
      SITE,
      'http://127.0.0.1:8080',
    ])
    expect(() => parseHostEnv({ CORS_ORIGINS: `${SITE}/` })).toThrow(
      /^CORS_ORIGINS=.*expected \* or a comma-separated list of origins/,
    )
  })
})

describe('CORS on the app', () => {
  it('is off by default (and when empty): no preflight answer, no Allow-Origin', async () => {
    for (const app of [appWith(), appWith([])]) {
      const pre = await app.request('/v1/generate', preflight(SITE))
      expect(pre.status).not.toBe(204)
      expect(pre.headers.get('access-control-allow-origin')).toBeNull()
      const get = await app.request('/v1/models', { headers: { Origin: SITE } })
      expect(get.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('answers a preflight from a listed origin with the methods and headers the API takes', async () => {
    const app = appWith([SITE])
    const res = await app.request('/v1/generate', preflight(SITE))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST,OPTIONS')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Content-Type,Authorization,If-None-Match',
    )
    expect(res.headers.get('access-control-max-age')).toBe('600')
    expect(res.headers.get('vary')).toContain('Origin')
    const other = await app.request('/v1/generate', preflight('https://evil.example'))
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('with * any origin may read schedules, and their ETag', async () => {
    const res = await appWith('*').request(`/v1/schedules/${TOY}/10`, { headers: { Origin: SITE } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(exposed(res)).toContain('etag')
  })

  it('exposes every X-* header a generate answer carries, and reaches error envelopes', async () => {
    const app = appWith([SITE])
    for (const format of ['png', 'json']) {
      const res = await app.request(
        '/v1/generate',
        generate({ model: TOY, class: 1, seed: 2, format }),
      )
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBe(SITE)
      const xs = [...res.headers.keys()].filter((h) => h.startsWith('x-'))
      expect(xs.length).toBeGreaterThanOrEqual(format === 'png' ? 8 : 6)
      for (const h of [...xs, 'server-timing']) expect(exposed(res), h).toContain(h)
    }
    const bad = await app.request('/v1/generate', generate({ model: TOY, class: 99 }))
    expect(bad.status).toBe(400)
    expect(bad.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('class')
  })

  it('lets a page read Retry-After on 429', async () => {
    const app = appWith('*', { maxQueued: 1, windowMs: 20 })
    const res = await Promise.all(
      Array.from({ length: 6 }, (_, k) =>
        app.request('/v1/generate', generate({ model: TOY, class: 1, seed: k })),
      ),
    )
    const full = res.find((r) => r.status === 429)!
    expect(full, 'a 429 among 6 requests with room for 1').toBeDefined()
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(full.headers.get('access-control-allow-origin')).toBe('*')
    expect(exposed(full)).toContain('retry-after')
    expect(CORS_EXPOSED_HEADERS).toContain('Retry-After')
  })
})
