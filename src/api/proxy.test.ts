import { describe, expect, it } from 'vitest'
import { fixtureSchedule } from '../../test/fixtures/schedules.ts'
import { choosePlan } from '../core/resolve.ts'
import { memoryScheduleStore } from '../runtime/schedule-store.ts'
import { createApp } from './index.ts'
import { rendezvous, runKey, type PoolHost } from './pool.ts'
import { proxyGenerate, type ProxyOptions } from './proxy.ts'
import type { GenerateRequest } from './schemas.ts'

type Behaviour = (req: Request) => Promise<Response>

/** A stand-in generate host that records what reached it. */
function fakeHost(name: string, behaviour: Behaviour = async () => Response.json({ host: name })) {
  const seen: Request[] = []
  const host: PoolHost & { seen: Request[]; behaviour: Behaviour } = {
    name,
    url: `https://${name}.test/v1/generate`,
    seen,
    behaviour,
    dispatch: (req) => {
      seen.push(req)
      return host.behaviour(req)
    },
  }
  return host
}

const ok = (name: string) => async () => Response.json({ host: name })
const status =
  (code: number, headers: Record<string, string> = {}) =>
  async () =>
    Response.json({ error: { code: `s${code}`, message: 'x' } }, { status: code, headers })
const refused = async (): Promise<Response> => {
  throw new TypeError('connection refused')
}

const BODY = { model: 'm', class: 1, steps: 20, budget: 8 }

function setup(names = ['a', 'b', 'c'], opts: ProxyOptions = {}) {
  let clock = 1_000_000
  const hosts = names.map((n) => fakeHost(n))
  const backend = proxyGenerate(hosts, { now: () => clock, ...opts })
  const app = createApp({ schedules: memoryScheduleStore([]), generate: backend })
  const send = (body: Record<string, unknown> = BODY, init: RequestInit = {}) =>
    app.request('/v1/generate', {
      method: 'POST',
      body: JSON.stringify(body),
      ...init,
      headers: { 'content-type': 'application/json', ...init.headers },
    })
  /** Hosts in the order the pool ranks them for `body`'s run group. */
  const ranked = (body: Record<string, unknown> = BODY) =>
    rendezvous(hosts, runKey({ batch: 1, format: 'png', ...body } as GenerateRequest))
  return { hosts, backend, app, send, ranked, advance: (ms: number) => (clock += ms) }
}

describe('proxyGenerate: forwarding', () => {
  it('forwards the validated body with a seed, the Authorization header and a signal', async () => {
    const { send, ranked } = setup(['only'])
    const res = await send(BODY, { headers: { authorization: 'Bearer abc' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-pool-attempts')).toBe('1')
    expect(res.headers.get('x-pool-host')).toBe('only')
    const [seen] = ranked()[0].seen
    expect(seen.url).toBe('https://only.test/v1/generate')
    expect(seen.headers.get('authorization')).toBe('Bearer abc')
    expect(seen.signal).toBeInstanceOf(AbortSignal)
    const body = (await seen.json()) as Record<string, unknown>
    expect(body).toMatchObject({ ...BODY, batch: 1, format: 'png' })
    // drawn at the edge, so a retry on another host draws the same images
    expect(Number.isInteger(body.seed)).toBe(true)
  })

  it('drops the encoding headers of a body that fetch already decoded', async () => {
    const { send, ranked } = setup(['only'])
    // what fetch hands over for a gzipped answer: the header stays, the body is plain
    ranked()[0].behaviour = async () =>
      new Response('{"ok":1}', {
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': '30',
        },
      })
    const res = await send()
    expect([res.headers.get('content-encoding'), res.headers.get('content-length')]).toEqual([
      null,
      null,
    ])
    expect(await res.json()).toEqual({ ok: 1 })
  })

  it('passes envelopes and headers of a 4xx through without trying another host', async () => {
    const { send, ranked } = setup()
    const [first, ...rest] = ranked()
    first.behaviour = status(404, { 'x-why': 'no such steps' })
    const res = await send()
    expect([res.status, res.headers.get('x-why')]).toEqual([404, 'no such steps'])
    expect(((await res.json()) as any).error.code).toBe('s404')
    expect(rest.map((h) => h.seen.length)).toEqual([0, 0])
  })
})

describe('proxyGenerate: affinity', () => {
  it('sends every request of one run group to one host, whatever its class and seed', async () => {
    const { send, ranked } = setup()
    for (let k = 0; k < 6; k++) await send({ ...BODY, class: k, seed: k })
    expect(ranked().map((h) => h.seen.length)).toEqual([6, 0, 0])
  })

  it('sends a speedup to the host of the budget it selects', async () => {
    const schedule = fixtureSchedule('m', 20)
    const { send, ranked } = setup(['a', 'b', 'c', 'd', 'e'], {
      schedules: memoryScheduleStore([schedule]),
    })
    for (const speedup of [1.5, 2, 2.5, 3, 4, 5]) {
      const budget = choosePlan(schedule, { speedup }).budget
      const [host] = ranked({ ...BODY, budget })
      const before = host.seen.length
      expect(await (await send({ ...BODY, budget: undefined, speedup })).json()).toEqual({
        host: host.name,
      })
      expect(host.seen.length).toBe(before + 1)
    }
  })

  it('spreads different run groups over the hosts', async () => {
    const { send, hosts } = setup()
    for (let budget = 2; budget < 20; budget++) await send({ ...BODY, budget })
    expect(hosts.filter((h) => h.seen.length > 0).length).toBe(3)
  })
})

describe('proxyGenerate: failover', () => {
  it('tries the next host on a 5xx, each time with a fresh request body', async () => {
    const { send, ranked, backend } = setup()
    const [first, second] = ranked()
    first.behaviour = status(500)
    const res = await send()
    expect(res.status).toBe(200)
    expect(res.headers.get('x-pool-attempts')).toBe('2')
    expect(await res.json()).toEqual({ host: second.name })
    expect(await first.seen[0].json()).toEqual(await second.seen[0].json())
    expect(backend.hosts!().find((h) => h.name === first.name)).toMatchObject({
      state: 'cooling',
      consecutiveFailures: 1,
      recentFailures: [{ reason: 'answered 500' }],
    })
  })

  it('tries the next host when one cannot be reached', async () => {
    const { send, ranked } = setup()
    const [first, second] = ranked()
    first.behaviour = refused
    const res = await send()
    expect(await res.json()).toEqual({ host: second.name })
  })

  it('tries the next host on a 429 without cooling the busy one down', async () => {
    const { send, ranked, backend } = setup()
    const [first, second] = ranked()
    first.behaviour = status(429, { 'retry-after': '2' })
    expect(await (await send()).json()).toEqual({ host: second.name })
    expect(backend.hosts!().find((h) => h.name === first.name)!.state).toBe('healthy')
    first.behaviour = ok(first.name)
    expect(await (await send()).json()).toEqual({ host: first.name })
  })

  it('answers 429 with the smallest Retry-After when every host is busy', async () => {
    const { send, hosts } = setup()
    hosts.forEach((h, k) => (h.behaviour = status(429, { 'retry-after': String([7, 3, 5][k]) })))
    const res = await send()
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '3'])
    expect(((await res.json()) as any).error.code).toBe('queue_full')
  })

  it('reads Retry-After given as an HTTP date', async () => {
    const { send, hosts } = setup(['a', 'b'])
    // the fake clock stands at 1,000,000 ms; 9 s later, and 20 s later
    hosts[0].behaviour = status(429, { 'retry-after': new Date(1_009_000).toUTCString() })
    hosts[1].behaviour = status(429, { 'retry-after': new Date(1_020_000).toUTCString() })
    expect((await send()).headers.get('retry-after')).toBe('9')
  })

  it('answers 429 when some hosts are busy and the others down', async () => {
    const { send, ranked } = setup()
    const [a, b, c] = ranked()
    a.behaviour = refused
    b.behaviour = status(429, { 'retry-after': '4' })
    c.behaviour = status(502)
    const res = await send()
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '4'])
  })

  it('answers 503 with a Retry-After when no host can answer', async () => {
    const { send, hosts } = setup(['a', 'b'], { cooldownMs: 12_000 })
    hosts.forEach((h) => (h.behaviour = refused))
    const res = await send()
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '12'])
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('backend_unavailable')
    expect(error.message).toMatch(/a: no answer: connection refused/)
    // a host's own Retry-After wins when it gave one
    hosts[0].behaviour = status(503, { 'retry-after': '2' })
    expect((await send()).headers.get('retry-after')).toBe('2')
  })
})

describe('proxyGenerate: cool-down', () => {
  it('routes around a failed host until its cool-down ends, then back to it', async () => {
    const { send, ranked, advance, backend } = setup(['a', 'b', 'c'], { cooldownMs: 5_000 })
    const [first, second] = ranked()
    first.behaviour = status(503)
    await send()
    first.behaviour = ok(first.name)
    // cooling: the group goes straight to its second choice
    const during = await send()
    expect([await during.json(), during.headers.get('x-pool-attempts')]).toEqual([
      { host: second.name },
      '1',
    ])
    expect(first.seen.length).toBe(1)
    advance(5_001)
    expect(await (await send()).json()).toEqual({ host: first.name })
    expect(backend.hosts!().every((h) => h.state === 'healthy')).toBe(true)
  })

  it('still tries cooling hosts, last, when every host is cooling', async () => {
    const { send, hosts } = setup(['a', 'b'])
    hosts.forEach((h) => (h.behaviour = status(500)))
    await send()
    hosts.forEach((h) => (h.behaviour = ok(h.name)))
    const res = await send()
    expect(res.status).toBe(200)
  })
})

describe('proxyGenerate: deadline and abort', () => {
  /** A host that answers only when its request is aborted, and records that it was. */
  const hang: Behaviour = (req) =>
    new Promise((_, reject) =>
      req.signal.addEventListener('abort', () => reject(req.signal.reason)),
    )

  it('aborts the attempt in flight at the deadline and answers 504', async () => {
    const { send, ranked, backend } = setup(['a', 'b'], { timeoutMs: 50 })
    const [first, second] = ranked()
    first.behaviour = hang
    const res = await send()
    expect(res.status).toBe(504)
    expect(((await res.json()) as any).error.code).toBe('timeout')
    expect(first.seen[0].signal.aborted).toBe(true)
    // a slow host is not a broken one, and no attempt starts after the deadline
    expect(backend.hosts!().every((h) => h.state === 'healthy')).toBe(true)
    expect(second.seen.length).toBe(0)
  })

  it("passes the client's abort to the host", async () => {
    const { send, ranked, hosts } = setup()
    const [first] = ranked()
    first.behaviour = hang
    const client = new AbortController()
    const pending = Promise.resolve(send(BODY, { signal: client.signal })).catch((e: unknown) => e)
    while (first.seen.length === 0) await new Promise((r) => setTimeout(r, 1))
    client.abort()
    await pending
    expect(first.seen[0].signal.aborted).toBe(true)
    expect(hosts.reduce((n, h) => n + h.seen.length, 0)).toBe(1)
  })
})
