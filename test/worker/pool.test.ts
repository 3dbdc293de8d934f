/**
 * The pool of generate hosts inside workerd: fake hosts are Fetchers bound as GENERATE,
 * GENERATE_2, ... in a per-test env (each env gets its own app, so host health starts fresh);
 * unreachable hosts are real loopback URLs nothing listens on.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { rendezvous, runKey } from '../../src/api/pool.ts'
import { choosePlan } from '../../src/core/resolve.ts'
import type { Schedule } from '../../src/core/schedule.ts'
import type { GenerateRequest } from '../../src/api/schemas.ts'
import worker, { type Env } from '../../src/hosts/worker.ts'
import { incoming } from './env.ts'

const BASE = 'https://edge.test'
const DEAD = 'http://127.0.0.1:9/v1/generate' // the discard port: nothing listens on loopback

type Behaviour = (req: Request) => Promise<Response>
interface Fake {
  fetch(req: Request): Promise<Response>
  behaviour: Behaviour
  seen: Request[]
}
const fake = (name: string): Fake => {
  const f: Fake = {
    seen: [],
    behaviour: async () => Response.json({ host: name }),
    fetch: (req) => {
      f.seen.push(req)
      return f.behaviour(req)
    },
  }
  return f
}
const status =
  (code: number, headers: Record<string, string> = {}) =>
  async () =>
    Response.json({ error: { code: `s${code}`, message: 'fake' } }, { status: code, headers })

/** An env with three fake bound hosts (and more vars); a fresh app and fresh health. */
function pool(vars: Record<string, unknown> = {}) {
  const hosts = {
    GENERATE: fake('GENERATE'),
    GENERATE_2: fake('GENERATE_2'),
    GENERATE_3: fake('GENERATE_3'),
  }
  const e = { ...env, ...hosts, GENERATE_URL: undefined, ...vars } as unknown as Env
  const call = (path: string, init?: RequestInit) =>
    worker.fetch(incoming(BASE + path, init), e, {} as ExecutionContext)
  const send = (body: Record<string, unknown>, init: RequestInit = {}) =>
    call('/v1/generate', {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny-dit-mnist', class: 1, ...body }),
      headers: { 'content-type': 'application/json' },
      ...init,
    })
  const health = async () =>
    ((await (await call('/healthz')).json()) as { hosts: { name: string; state: string }[] }).hosts
  return { hosts, send, health, call }
}

/** Binding names in the order the pool ranks them for a request body. */
const ranking = (names: string[], body: Record<string, unknown>) =>
  rendezvous(
    names.map((name) => ({ name })),
    runKey({
      model: 'tiny-dit-mnist',
      class: 1,
      batch: 1,
      format: 'png',
      ...body,
    } as GenerateRequest),
  ).map((h) => h.name)
const NAMES = ['GENERATE', 'GENERATE_2', 'GENERATE_3']

describe('Worker pool: routing', () => {
  it('lists every host in /healthz, bindings by name and URLs without credentials', async () => {
    const { health } = pool({
      GENERATE_URLS: `https://u:p@gpu.example/v1/generate?x=1, ${DEAD}`,
      GENERATE_URL: DEAD, // the single-host name joins the list; listed twice is one host
      GENERATE_10: fake('GENERATE_10'), // ordered by number, not as text
      GENERATE_GPU: fake('GENERATE_GPU'), // not a pool name: not a host
    })
    expect((await health()).map((h) => [h.name, h.state])).toEqual([
      ['GENERATE', 'healthy'],
      ['GENERATE_2', 'healthy'],
      ['GENERATE_3', 'healthy'],
      ['GENERATE_10', 'healthy'],
      ['https://gpu.example/v1/generate', 'healthy'],
      [DEAD, 'healthy'],
    ])
  })

  it('sends one run group to one host and spreads groups over the hosts', async () => {
    const { hosts, send } = pool()
    for (let k = 0; k < 4; k++)
      expect((await send({ class: k, steps: 20, budget: 8 })).status).toBe(200)
    const first = ranking(NAMES, { steps: 20, budget: 8 })[0] as keyof typeof hosts
    expect(hosts[first].seen.length).toBe(4)
    for (let budget = 2; budget < 14; budget++) await send({ steps: 20, budget })
    expect(Object.values(hosts).every((h) => h.seen.length > 0)).toBe(true)
  })
})

describe('Worker pool: speedup', () => {
  it('sends a speedup to the host of the budget it selects in the served schedule', async () => {
    const file = await env.ASSETS.fetch('https://assets.local/schedules/tiny-dit-mnist/20.json')
    const schedule = (await file.json()) as Schedule
    const { hosts, send } = pool()
    for (const speedup of [1.5, 2, 2.5, 3, 4, 5]) {
      const budget = choosePlan(schedule, { speedup }).budget
      const first = ranking(NAMES, { steps: 20, budget })[0] as keyof typeof hosts
      const before = hosts[first].seen.length
      expect((await send({ steps: 20, speedup })).status).toBe(200)
      expect(hosts[first].seen.length).toBe(before + 1)
    }
  })
})

describe('Worker pool: failover', () => {
  it('fails over on a 5xx and cools the host down, as /healthz shows', async () => {
    const { hosts, send, health } = pool()
    const body = { steps: 20, budget: 8 }
    const [a, b] = ranking(NAMES, body) as (keyof typeof hosts)[]
    hosts[a].behaviour = status(502)
    const res = await send(body)
    expect([res.status, await res.json()]).toEqual([200, { host: b }])
    expect((await health()).find((h) => h.name === a)).toMatchObject({
      state: 'cooling',
      coolingUntil: expect.any(String),
      consecutiveFailures: 1,
      recentFailures: [{ reason: 'answered 502' }],
    })
  })

  it('fails over when a URL host refuses the connection', async () => {
    // find a run group that ranks the dead URL first, so its attempt really happens
    const names = [...NAMES, DEAD]
    const budget = [...Array(18).keys()]
      .map((k) => k + 2)
      .find((k) => ranking(names, { steps: 20, budget: k })[0] === DEAD)!
    const { hosts, send, health } = pool({ GENERATE_URLS: DEAD })
    const res = await send({ steps: 20, budget })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-pool-attempts')).toBe('2')
    expect(Object.values(hosts).reduce((n, h) => n + h.seen.length, 0)).toBe(1)
    const dead = (await health()).find((h) => h.name === DEAD) as any
    expect(dead.state).toBe('cooling')
    expect(dead.recentFailures[0].reason).toMatch(/^no answer/)
  })

  it('tries the next host on a 429; all busy: 429 with the smallest Retry-After', async () => {
    const { hosts, send } = pool()
    const body = { steps: 20, budget: 8 }
    const [a, b] = ranking(NAMES, body) as (keyof typeof hosts)[]
    hosts[a].behaviour = status(429, { 'retry-after': '6' })
    expect(await (await send(body)).json()).toEqual({ host: b })
    Object.values(hosts).forEach(
      (h, k) => (h.behaviour = status(429, { 'retry-after': String(k + 5) })),
    )
    const res = await send(body)
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '5'])
  })

  it('does not fail over on a 4xx: the client gets it as the host sent it', async () => {
    const { hosts, send } = pool()
    const body = { steps: 20, budget: 8 }
    const [a] = ranking(NAMES, body) as (keyof typeof hosts)[]
    hosts[a].behaviour = status(400)
    const res = await send(body)
    expect([res.status, ((await res.json()) as any).error.code]).toEqual([400, 's400'])
    expect(Object.values(hosts).reduce((n, h) => n + h.seen.length, 0)).toBe(1)
  })

  it('answers 503 with Retry-After when no host can answer', async () => {
    const { hosts, send } = pool({ POOL_COOLDOWN_MS: '4000' })
    Object.values(hosts).forEach((h) => (h.behaviour = status(500)))
    const res = await send({ steps: 20, budget: 8 })
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '4'])
    expect(((await res.json()) as any).error.code).toBe('backend_unavailable')
  })
})

describe('Worker pool: cool-down and deadline', () => {
  it('routes around a cooling host, then back to it after POOL_COOLDOWN_MS', async () => {
    const { hosts, send, health } = pool({ POOL_COOLDOWN_MS: '300' })
    const body = { steps: 20, budget: 8 }
    const [a, b] = ranking(NAMES, body) as (keyof typeof hosts)[]
    hosts[a].behaviour = status(500)
    await send(body)
    hosts[a].behaviour = async () => Response.json({ host: a })
    const during = await send(body)
    expect([await during.json(), during.headers.get('x-pool-attempts')]).toEqual([{ host: b }, '1'])
    await new Promise((r) => setTimeout(r, 400))
    expect(await (await send(body)).json()).toEqual({ host: a })
    expect((await health()).every((h) => h.state === 'healthy')).toBe(true)
  })

  it('aborts the host request at POOL_TIMEOUT_MS and answers 504', async () => {
    const { hosts, send } = pool({ POOL_TIMEOUT_MS: '200' })
    const body = { steps: 20, budget: 8 }
    const [a] = ranking(NAMES, body) as (keyof typeof hosts)[]
    hosts[a].behaviour = (req) =>
      new Promise((_, reject) =>
        req.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      )
    const res = await send(body)
    expect([res.status, ((await res.json()) as any).error.code]).toEqual([504, 'timeout'])
    expect(hosts[a].seen[0].signal.aborted).toBe(true)
  })

  it("passes the client's abort to the host request", async () => {
    const { hosts, send } = pool()
    const body = { steps: 20, budget: 8 }
    const [a] = ranking(NAMES, body) as (keyof typeof hosts)[]
    let aborted = false
    hosts[a].behaviour = (req) =>
      new Promise((_, reject) =>
        req.signal.addEventListener('abort', () => {
          aborted = true
          reject(new Error('aborted'))
        }),
      )
    const client = new AbortController()
    const pending = Promise.resolve(send(body, { signal: client.signal })).catch((e: unknown) => e)
    while (hosts[a].seen.length === 0) await new Promise((r) => setTimeout(r, 1))
    client.abort()
    await pending
    expect(aborted).toBe(true)
    expect(Object.values(hosts).reduce((n, h) => n + h.seen.length, 0)).toBe(1)
  })

  it('answers 503 naming a bad pool variable', async () => {
    for (const [name, value] of [
      ['GENERATE_URLS', 'gpu-1:8787'],
      ['GENERATE_URLS', 'https://a.example/v1/generate,'],
      ['POOL_COOLDOWN_MS', '10s'],
      ['POOL_TIMEOUT_MS', '0'],
    ]) {
      const res = await pool({ [name]: value }).send({})
      expect(res.status).toBe(503)
      expect(((await res.json()) as any).error).toMatchObject({
        code: 'misconfigured',
        field: name,
      })
    }
  })
})
