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

  it('with space sets, segments change spaces; key moves carry them; uniform is one form', async () => {
    const sets = ['feature+noise', 'feature', 'noise']
    const o = { steps: 20, forcedFirst: 1, orders: [1], spaceSets: sets }
    const c = { keySteps: [0, 4, 10], orders: [1, 1, 1] }
    const all = neighbours(c, o)
    const spaceMoves = all.filter((n) => n.move.startsWith('spaces of segment'))
    // two other sets for each of the three segments, and a candidate without spaces has the
    // first set everywhere
    expect(spaceMoves.map((n) => n.move)).toEqual([
      'spaces of segment after 0: feature+noise -> feature',
      'spaces of segment after 0: feature+noise -> noise',
      'spaces of segment after 4: feature+noise -> feature',
      'spaces of segment after 4: feature+noise -> noise',
      'spaces of segment after 10: feature+noise -> feature',
      'spaces of segment after 10: feature+noise -> noise',
    ])
    expect(spaceMoves[3].cand.spaces).toEqual(['feature+noise', 'noise', 'feature+noise'])
    // without space sets, no space moves and no spaces
    expect(neighbours(c, { ...o, spaceSets: undefined }).every((n) => !n.cand.spaces)).toBe(true)
    // a plan with spaces: a shift keeps them, a move takes its new segment's from the one split
    const spaced = { ...c, spaces: ['noise', 'feature', 'feature+noise'] }
    const next = neighbours(spaced, o)
    expect(next.find((n) => n.move === 'shift key 4 -> 3')!.cand.spaces).toEqual(spaced.spaces)
    const moved = next.find((n) => n.move === 'move key 4 -> 5')!.cand
    expect(moved).toEqual({
      keySteps: [0, 5, 10],
      orders: [1, 1, 1],
      spaces: ['noise', 'noise', 'feature+noise'],
    })
    // back to the first set everywhere: the plain form, no spaces
    const back = neighbours({ ...c, spaces: ['feature+noise', 'noise', 'feature+noise'] }, o)
    expect(
      back.find((n) => n.move === 'spaces of segment after 4: noise -> feature+noise')!.cand,
    ).toEqual(c)
    // a climb finds the best set per segment
    const want = ['noise', 'feature', 'feature+noise']
    const r = await refine(c, {
      ...o,
      maxEvals: 100,
      evaluate: async (x) =>
        (x.spaces ?? x.keySteps.map(() => sets[0])).filter((v, m) => v !== want[m]).length +
        Math.abs(x.keySteps[1] - 4),
    })
    expect(r.best).toEqual({ ...c, spaces: want })
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
