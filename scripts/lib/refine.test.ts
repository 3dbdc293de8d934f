import { describe, expect, it } from 'vitest'
import { neighbours, randomKeys, refine, stateAfter, type Candidate } from './refine.ts'

// A synthetic error with a known optimum: distance of the keys and orders to a target plan.
const target: Candidate = { keySteps: [0, 1, 5, 9, 14], orders: [0, 1, 1, 2, 2] }
const error = async (c: Candidate) =>
  c.keySteps.reduce((s, t, m) => s + Math.abs(t - target.keySteps[m]), 0) +
  c.orders.reduce((s, r, m) => s + (r === target.orders[m] ? 0 : 0.5), 0)

describe('refine', () => {
  const opts = { steps: 20, forcedFirst: 2, orders: [0, 1, 2], maxEvals: 500, evaluate: error }
  it('walks from a start to the optimum of a separable error, deterministically', async () => {
    const start = { keySteps: [0, 1, 3, 12, 17], orders: [1, 1, 1, 1, 1] }
    const a = await refine(start, opts)
    expect(a.best).toEqual(target)
    expect(a.error).toBe(0)
    expect(a.startError).toBe(await error(start))
    expect(a.moves.length).toBeGreaterThan(0)
    const b = await refine(start, opts)
    expect(b).toEqual(a)
  })

  it('stops at the evaluation budget and is never worse than the start', async () => {
    const start = { keySteps: [0, 1, 3, 12, 17], orders: [1, 1, 1, 1, 1] }
    const r = await refine(start, { ...opts, maxEvals: 6 })
    expect(r.evals).toBe(6)
    expect(r.error).toBeLessThanOrEqual(r.startError)
  })

  it('stateAfter(r, n) is the climb stopped after n runs, without running it again', async () => {
    // a ripple makes the walk accept and reject moves in an irregular pattern
    const bumpy = async (c: Candidate) =>
      (await error(c)) + 2 * c.keySteps.filter((t) => t % 4 === 2).length
    const start = { keySteps: [0, 1, 3, 12, 17], orders: [1, 1, 1, 1, 1] }
    const full = await refine(start, { ...opts, evaluate: bumpy })
    expect(full.moves.length).toBeGreaterThan(2)
    for (let n = 1; n <= full.evals; n++) {
      const stopped = await refine(start, { ...opts, evaluate: bumpy, maxEvals: n })
      const s = stateAfter(full, n)
      expect(s.best).toEqual(stopped.best)
      expect(s.error).toBe(stopped.error)
      expect(s.moves).toEqual(stopped.moves)
    }
  })

  it('neighbours keep keys increasing, below N, and forced keys in place', () => {
    const c = { keySteps: [0, 1, 2, 4, 19], orders: [0, 1, 1, 1, 2] }
    const all = neighbours(c, { steps: 20, forcedFirst: 2, orders: [0, 1, 2] })
    expect(all.length).toBeGreaterThan(10)
    for (const { cand } of all) {
      expect(cand.keySteps.slice(0, 2)).toEqual([0, 1])
      expect(cand.keySteps.length).toBe(5)
      expect(cand.orders.length).toBe(5)
      cand.keySteps.forEach((t, m) => m > 0 && expect(t).toBeGreaterThan(cand.keySteps[m - 1]))
      expect(cand.keySteps[4]).toBeLessThan(20)
    }
  })

  it('draws sorted, distinct random keys after the forced steps', () => {
    let x = 0
    const next = () => ((x = (x * 9301 + 49297) % 233280), x / 233280)
    for (let k = 0; k < 20; k++) {
      const keys = randomKeys(30, 7, 2, next)
      expect(keys.slice(0, 2)).toEqual([0, 1])
      expect(new Set(keys).size).toBe(7)
      expect(keys.every((t, m) => m === 0 || t > keys[m - 1])).toBe(true)
      expect(keys.every((t) => t < 30)).toBe(true)
    }
  })
})
