import { describe, expect, it } from 'vitest'
import { budcacheSearch } from './quality-budcache.ts'
import type { Candidate } from './refine.ts'

// a bumpy landscape: distance to a target key set plus a ripple that makes local optima
const target = [0, 1, 9, 14, 22, 31, 40, 47]
const bumpy = async (c: Candidate) =>
  c.keySteps.reduce((e, k, m) => e + Math.abs(k - target[m]) + 3 * (k % 3 === 1 ? 1 : 0), 0)

describe('budcacheSearch', () => {
  it('spends its run budget over several climbs, keeps the forced steps, and is deterministic', async () => {
    let calls = 0
    const opts = {
      steps: 50,
      budget: 8,
      evals: 120,
      evaluate: async (c: Candidate) => {
        calls++
        return bumpy(c)
      },
      select: bumpy,
    }
    const a = await budcacheSearch(opts)
    expect(a.runs).toBe(calls)
    expect(a.runs).toBeLessThanOrEqual(120)
    expect(a.runs).toBeGreaterThan(100)
    expect(a.climbs).toBeGreaterThan(1)
    expect(a.keySteps.slice(0, 2)).toEqual([0, 1])
    expect(a.keySteps).toHaveLength(8)
    // more climbs can only help on the judging error: never worse than one climb's result
    const one = await budcacheSearch({ ...opts, evals: 20 })
    expect(await bumpy({ keySteps: a.keySteps, orders: [] })).toBeLessThanOrEqual(
      await bumpy({ keySteps: one.keySteps, orders: [] }),
    )
    const b = await budcacheSearch(opts)
    expect(b).toEqual(a)
  })
})
