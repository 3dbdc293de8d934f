/**
 * The schedules shipped for the paper's own models (FLUX.1-dev, Wan2.1), planned from the cost
 * tensors its authors released. Reads only the committed files (schedules/<model>/50.pact.npy),
 * never ../shared. Optimality is checked against an optimum computed here without the planner:
 * a top-down recursion over (previous key, current key, keys left) on the full tensors, and
 * brute force over every key subset on truncated ones (which also checks that recursion).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseNpy } from '../src/core/npy.ts'
import { planAll } from '../src/core/planner.ts'
import { parseSchedule, type Schedule } from '../src/core/schedule.ts'

const root = join(import.meta.dirname, '..')
const FORCED_FIRST = 3
const MAX_JUMP = 15

interface Tensor {
  n: number
  at(p: number, i: number, j: number): number
}

async function committed(
  model: string,
): Promise<{ schedule: Schedule; tensor: Tensor; data: Float64Array }> {
  const schedule = parseSchedule(
    JSON.parse(await readFile(join(root, 'schedules', model, '50.json'), 'utf8')),
  )
  const npy = parseNpy(
    new Uint8Array(await readFile(join(root, 'schedules', schedule.calibration.pactFile))),
  )
  const data = Float64Array.from(npy.data)
  const n = npy.shape[0]
  return { schedule, data, tensor: { n, at: (p, i, j) => data[(p * (n + 1) + i) * (n + 1) + j] } }
}

/** The first `m` steps of a tensor as an m-step problem whose end is step m. */
function truncate(t: Tensor, m: number): Tensor {
  return { n: m, at: (p, i, j) => t.at(p, i, j) }
}

/**
 * Minimum path cost with exactly k keys, by recursion: f(p, i, left) = cheapest way to finish
 * from current key i (previous key p) placing `left` more keys. Keys 0..F-1 are forced, no
 * gap (including the last key to the end) exceeds J.
 */
function optimum(t: Tensor, k: number, forced: number, jump: number): number {
  const memo = new Map<number, number>()
  const f = (p: number, i: number, left: number): number => {
    const key = (p * t.n + i) * (t.n + 1) + left
    const hit = memo.get(key)
    if (hit !== undefined) return hit
    let best = Infinity
    if (left === 0) {
      if (t.n - i <= jump && i >= forced - 1) best = t.at(p, i, t.n)
    } else {
      const lo = i + 1
      const hi = i + 1 < forced ? i + 1 : Math.min(i + jump, t.n - 1)
      for (let j = lo; j <= hi; j++) best = Math.min(best, t.at(p, i, j) + f(i, j, left - 1))
    }
    memo.set(key, best)
    return best
  }
  return f(0, 0, k - 1)
}

/** Every admissible key set, by enumeration: the cheapest cost for each K. */
function bruteForce(t: Tensor, forced: number, jump: number): Map<number, number> {
  const free = t.n - forced
  const best = new Map<number, number>()
  for (let bits = 0; bits < 1 << free; bits++) {
    const keys = Array.from({ length: forced }, (_, k) => k)
    for (let b = 0; b < free; b++) if (bits & (1 << b)) keys.push(forced + b)
    const gaps = keys.map((k, m) => (m + 1 < keys.length ? keys[m + 1] : t.n) - k)
    if (gaps.some((g) => g > jump)) continue
    let cost = 0
    keys.forEach(
      (k, m) =>
        (cost += t.at(m === 0 ? k : keys[m - 1], k, m + 1 < keys.length ? keys[m + 1] : t.n)),
    )
    if (cost < (best.get(keys.length) ?? Infinity)) best.set(keys.length, cost)
  }
  return best
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))

describe.each(['flux.1-dev', 'wan2.1'])('%s schedule (released tensor)', async (model) => {
  const { schedule, tensor, data } = await committed(model)

  it("records the paper's settings and leaves what the release does not say as null", () => {
    expect(schedule.steps).toBe(50)
    expect(schedule.planner).toEqual({
      method: 'exact',
      forcedFirst: FORCED_FIRST,
      forcedLast: 0,
      maxJump: MAX_JUMP,
    })
    expect(schedule.solver.shift).toBeNull()
    expect(schedule.modelSha256).toBeNull()
    expect(schedule.calibration).toMatchObject({
      source: 'imported',
      samples: null,
      seeds: null,
      classes: null,
      guidance: null,
    })
    expect(schedule.calibration.origin?.licence).toBe('Apache-2.0')
    expect(schedule.calibration.origin?.source).toMatch(/DPCache official release/)
  })

  it('every plan costs the optimum computed without the planner', () => {
    const budgets = schedule.plans.map((p) => p.budget)
    // keys 0, 1, 2, then gaps of at most 15 from step 2 to the end (50): ceil(48 / 15) - 1 = 3 more keys
    expect(budgets[0]).toBe(
      Math.max(FORCED_FIRST, 1) + Math.ceil((tensor.n - (FORCED_FIRST - 1)) / MAX_JUMP) - 1,
    )
    expect(budgets.at(-1)).toBe(50)
    for (const k of [budgets[0], 8, 10, 13, 17, 25, 40]) {
      const plan = schedule.plans.find((p) => p.budget === k)!
      const want = optimum(tensor, k, FORCED_FIRST, MAX_JUMP)
      expect(Math.abs(plan.cost - want) / want, `K=${k}`).toBeLessThan(5e-6) // the file rounds to 6 digits
    }
  })

  it('on truncated tensors the planner and the recursion both match brute force', () => {
    for (const [m, jump] of [
      [12, 4],
      [14, 3],
      [15, 15],
    ] as const) {
      const t = truncate(tensor, m)
      const sub = new Float64Array(m * (m + 1) * (m + 1))
      for (let p = 0; p < m; p++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j <= m; j++) sub[(p * (m + 1) + i) * (m + 1) + j] = t.at(p, i, j)
      const brute = bruteForce(t, FORCED_FIRST, jump)
      const plans = planAll(
        { steps: m, data: sub },
        { method: 'exact', forcedFirst: FORCED_FIRST, maxJump: jump },
      )
      expect(plans.map((p) => p.budget)).toEqual([...brute.keys()].sort((a, b) => a - b))
      for (const p of plans) {
        expect(
          close(p.cost, brute.get(p.budget)!),
          `m=${m} K=${p.budget}: ${p.cost} vs ${brute.get(p.budget)}`,
        ).toBe(true)
        expect(close(optimum(t, p.budget, FORCED_FIRST, jump), brute.get(p.budget)!)).toBe(true)
      }
    }
  })

  it("records the paper's greedy cost: never cheaper than ours, dearer at several budgets", () => {
    const greedy = planAll(
      { steps: 50, data },
      { method: 'greedy', forcedFirst: FORCED_FIRST, maxJump: MAX_JUMP },
    )
    let dearer = 0
    for (const p of schedule.plans) {
      const g = greedy.find((q) => q.budget === p.budget)!
      expect(p.greedyCost).toBe(Number(g.cost.toPrecision(6)))
      expect(p.cost).toBeLessThanOrEqual(p.greedyCost!)
      if (p.greedyCost! > p.cost) dearer++
    }
    expect(dearer).toBeGreaterThanOrEqual(10)
  })
})

describe("the paper's greedy planner on the FLUX.1-dev tensor", () => {
  it('reproduces the key steps the paper publishes', async () => {
    const { data } = await committed('flux.1-dev')
    const greedy = planAll(
      { steps: 50, data },
      { method: 'greedy', forcedFirst: FORCED_FIRST, maxJump: MAX_JUMP },
    )
    expect(greedy.find((p) => p.budget === 13)?.keySteps).toEqual([
      0, 1, 2, 4, 7, 10, 14, 19, 23, 28, 34, 40, 45,
    ])
    expect(greedy.find((p) => p.budget === 9)?.keySteps).toEqual([0, 1, 2, 5, 9, 14, 21, 28, 38])
  })
})

describe('NOTICE', () => {
  it('names both released tensors, their source and licence', async () => {
    const notice = await readFile(join(root, 'NOTICE'), 'utf8')
    for (const f of [
      'schedules/flux.1-dev/50.pact.npy',
      'schedules/wan2.1/50.pact.npy',
      'Apache License, Version 2.0',
    ])
      expect(notice).toContain(f)
  })
})
