import { describe, expect, it } from 'vitest'
import { fixtureSchedule } from '../../test/fixtures/schedules.ts'
import { choosePlan } from '../core/resolve.ts'
import { hash32, HostPool, rendezvous, runKey, type PoolHost } from './pool.ts'
import type { GenerateRequest } from './schemas.ts'

const named = (...names: string[]) => names.map((name) => ({ name }))
const keys = Array.from(
  { length: 3000 },
  (_, k) => `tiny-dit-mnist\n${20 + (k % 31)}\n${k}\n${k % 7}`,
)

describe('rendezvous hashing', () => {
  it('ranks every host, the same way every time', () => {
    const hosts = named('a', 'b', 'c')
    const order = rendezvous(hosts, 'k').map((h) => h.name)
    expect([...order].sort()).toEqual(['a', 'b', 'c'])
    expect(rendezvous([...hosts].reverse(), 'k').map((h) => h.name)).toEqual(order)
  })

  it('spreads keys evenly over the hosts', () => {
    const hosts = named('https://gpu-1/v1/generate', 'https://gpu-2/v1/generate', 'GENERATE')
    const counts = new Map<string, number>()
    for (const key of keys) {
      const first = rendezvous(hosts, key)[0].name
      counts.set(first, (counts.get(first) ?? 0) + 1)
    }
    // 1000 each on average, with a standard deviation of about 26
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(120)
  })

  it('moves only the keys of a removed host, each to its own second choice', () => {
    const hosts = named('a', 'b', 'c', 'd')
    const without = hosts.filter((h) => h.name !== 'c')
    let moved = 0
    for (const key of keys) {
      const before = rendezvous(hosts, key)
      const after = rendezvous(without, key)
      if (before[0].name === 'c') {
        moved++
        expect(after[0]).toBe(before[1])
      } else expect(after[0]).toBe(before[0])
    }
    expect(moved).toBeGreaterThan(0)
  })

  it('hashes to well-mixed 32-bit values', () => {
    expect(hash32('a')).not.toBe(hash32('b'))
    expect(hash32('')).toBeGreaterThanOrEqual(0)
    expect(hash32('x'.repeat(100))).toBeLessThan(2 ** 32)
  })
})

describe('runKey', () => {
  const req = (r: Partial<GenerateRequest>) =>
    ({ model: 'm', class: 0, batch: 1, format: 'png', ...r }) as GenerateRequest
  it('ignores what a shared run does not need: class, seed, batch, format', () => {
    expect(runKey(req({ class: 3, seed: 9, batch: 4, format: 'json' }))).toBe(runKey(req({})))
  })
  it('separates what the host batches on: model, steps, budget, guidance', () => {
    const base = runKey(req({ steps: 20, budget: 8, guidance: 2 }))
    for (const r of [{ model: 'n' }, { steps: 28 }, { budget: 9 }, { guidance: 3 }]) {
      expect(runKey(req({ steps: 20, budget: 8, guidance: 2, ...r }))).not.toBe(base)
    }
  })
  it('treats a budget equal to the steps, and a speedup of 1, as full compute', () => {
    expect(runKey(req({ steps: 20, budget: 20 }))).toBe(runKey(req({ steps: 20 })))
    expect(runKey(req({ steps: 20, speedup: 1 }))).toBe(runKey(req({ steps: 20 })))
  })
  it("ranks a speedup like the budget it selects, given the request's schedule", () => {
    const schedule = fixtureSchedule('m', 20)
    const budget = choosePlan(schedule, { speedup: 2.5 }).budget
    const bySpeedup = req({ steps: 20, speedup: 2.5 })
    expect(runKey(bySpeedup, schedule)).toBe(runKey(req({ steps: 20, budget })))
    // without it (or with another step count's) the speedup is its own group
    expect(runKey(bySpeedup)).not.toBe(runKey(req({ steps: 20, budget })))
    expect(runKey(bySpeedup, fixtureSchedule('m', 28))).toBe(runKey(bySpeedup))
    // a speedup no plan reaches keeps its own key (the host will say why)
    expect(runKey(req({ steps: 20, speedup: 19 }), schedule)).toBe(
      runKey(req({ steps: 20, speedup: 19 })),
    )
  })
})

describe('HostPool', () => {
  const hosts: PoolHost[] = ['a', 'b', 'c'].map((name) => ({
    name,
    url: `https://${name}/`,
    dispatch: async () => new Response(),
  }))

  it('orders cooling hosts last and reports their state until the cool-down ends', () => {
    let now = 0
    const pool = new HostPool(hosts, { cooldownMs: 100, now: () => now })
    const ranked = pool.order('k')
    pool.failed(ranked[0], 'answered 502')
    expect(pool.order('k')).toEqual([ranked[1], ranked[2], ranked[0]])
    expect(pool.nextBackInMs()).toBe(0)
    expect(pool.health().find((h) => h.name === ranked[0].name)).toEqual({
      name: ranked[0].name,
      state: 'cooling',
      coolingUntil: new Date(100).toISOString(),
      consecutiveFailures: 1,
      recentFailures: [{ at: new Date(0).toISOString(), reason: 'answered 502' }],
    })
    now = 101
    expect(pool.order('k')).toEqual(ranked)
    pool.succeeded(ranked[0])
    expect(pool.health()[0]).toMatchObject({ state: 'healthy', consecutiveFailures: 0 })
  })

  it('keeps the last five failures and says when the first host is back', () => {
    let now = 0
    const pool = new HostPool(hosts, { cooldownMs: 1000, now: () => now })
    for (const h of hosts) pool.failed(h, 'x')
    for (let k = 0; k < 7; k++) pool.failed(hosts[0], `f${k}`)
    expect(pool.health()[0].recentFailures.map((f) => f.reason)).toEqual([
      'f2',
      'f3',
      'f4',
      'f5',
      'f6',
    ])
    now = 400
    expect(pool.nextBackInMs()).toBe(600)
  })

  it('refuses two hosts with one name', () => {
    expect(() => new HostPool([hosts[0], hosts[0]], { cooldownMs: 1 })).toThrow(/distinct/)
  })
})
