import { describe, expect, it } from 'vitest'
import { pactIndex, type Pact } from './pact.ts'
import { maskOf, pathCost, planAll, resolveMoves, type PlanOptions } from './planner.ts'
import { Rng } from './rng.ts'

/** Random 3-D tensor with some infeasible (+Infinity) entries. */
function randomPact(steps: number, seed: number, infeasible = 0.1): Pact {
  const rng = new Rng(seed)
  const data = new Float64Array(steps * (steps + 1) * (steps + 1)).fill(Infinity)
  for (let i = 0; i < steps; i++) {
    for (let p = 0; p < Math.max(i, 1); p++) {
      for (let j = i + 1; j <= steps; j++) {
        if (rng.uniform() < infeasible) continue
        // costs grow with the gap, like real ones, plus noise that makes the history matter
        data[pactIndex(steps, p, i, j)] =
          (j - i) ** 2 * (0.5 + rng.uniform()) + 3 * rng.uniform() * (i - p)
      }
    }
  }
  return { steps, data }
}

/** Every key subset containing 0, honouring the constraints: the ground truth. */
function bruteForce(pact: Pact, opts: PlanOptions): Map<number, number> {
  const n = pact.steps
  const moves = resolveMoves(n, opts)
  const best = new Map<number, number>()
  for (let bits = 0; bits < 1 << (n - 1); bits++) {
    const keys = [0]
    for (let s = 1; s < n; s++) if (bits & (1 << (s - 1))) keys.push(s)
    const feasible = keys.every((k, m) => (m + 1 < keys.length ? keys[m + 1] : n) <= moves.last(k))
    if (!feasible) continue
    const cost = pathCost(pact, keys)
    if (cost === Infinity) continue
    if (!(best.get(keys.length)! <= cost)) best.set(keys.length, cost)
  }
  return best
}

describe('planAll exact', () => {
  const cases: PlanOptions[] = [
    { forcedFirst: 0 },
    { forcedFirst: 1 },
    { forcedFirst: 3 },
    { forcedFirst: 2, forcedLast: 1 },
    { forcedFirst: 1, maxJump: 3 },
    { forcedFirst: 3, forcedLast: 2, maxJump: 4 },
  ]
  for (const steps of [4, 7, 10]) {
    for (const [c, opts] of cases.entries()) {
      it(`matches brute force, N=${steps}, ${JSON.stringify(opts)}`, () => {
        for (let seed = 0; seed < (steps === 10 ? 3 : 8); seed++) {
          const pact = randomPact(steps, 1000 * steps + 10 * c + seed)
          const truth = bruteForce(pact, opts)
          const plans = planAll(pact, opts)
          expect(plans.map((p) => p.budget)).toEqual([...truth.keys()].sort((a, b) => a - b))
          for (const plan of plans) {
            expect(plan.cost).toBeCloseTo(truth.get(plan.budget)!, 9)
            expect(plan.keySteps[0]).toBe(0)
            expect(plan.mask).toBe(maskOf(steps, plan.keySteps))
            const forced = Math.min(opts.forcedFirst ?? 3, steps)
            for (let s = 0; s < forced; s++) expect(plan.keySteps).toContain(s)
            for (let s = steps - (opts.forcedLast ?? 0); s < steps; s++)
              expect(plan.keySteps).toContain(s)
          }
        }
      })
    }
  }
})

describe('baselines', () => {
  it('greedy and 2-D never beat exact, and exact wins somewhere', () => {
    let strictlyBetter = 0
    for (let seed = 0; seed < 20; seed++) {
      const pact = randomPact(12, seed, 0)
      const exact = planAll(pact)
      for (const method of ['greedy', '2d'] as const) {
        for (const plan of planAll(pact, { method })) {
          const e = exact.find((p) => p.budget === plan.budget)!
          expect(e.cost).toBeLessThanOrEqual(plan.cost + 1e-9)
          if (e.cost < plan.cost - 1e-9) strictlyBetter++
        }
      }
    }
    expect(strictlyBetter).toBeGreaterThan(0)
  })

  it('2-D ignores the previous key; its reported cost is the true path-aware one', () => {
    const pact = randomPact(9, 7, 0)
    for (const plan of planAll(pact, { method: '2d' })) {
      expect(plan.cost).toBe(pathCost(pact, plan.keySteps))
    }
  })

  it('greedy keeps one back-pointer: a hand-made tensor where it is trapped', () => {
    // N = 5, forcedFirst 1, budget 4. Key 3 is reached with three keys as [0,2,3] (cost 2)
    // or [0,1,3] (cost 3); greedy keeps only the cheaper [0,2,3], but leaving 3 is cheap only
    // when the key before it was 1.
    const n = 5
    const data = new Float64Array(n * (n + 1) * (n + 1)).fill(Infinity)
    const set = (p: number, i: number, j: number, v: number) => (data[pactIndex(n, p, i, j)] = v)
    set(0, 0, 1, 1)
    set(0, 0, 2, 1)
    set(0, 1, 3, 2)
    set(0, 2, 3, 1)
    set(1, 3, 4, 1)
    set(2, 3, 4, 50)
    set(3, 4, 5, 1)
    const pact = { steps: n, data }
    const exact = planAll(pact, { forcedFirst: 1 }).find((p) => p.budget === 4)!
    const greedy = planAll(pact, { forcedFirst: 1, method: 'greedy' }).find((p) => p.budget === 4)!
    expect(exact.keySteps).toEqual([0, 1, 3, 4])
    expect(exact.cost).toBe(5)
    expect(greedy.keySteps).toEqual([0, 2, 3, 4])
    expect(greedy.cost).toBe(53)
  })
})

describe('constraints', () => {
  it('rejects bad options and wrong tensor sizes with the name of the field', () => {
    const pact = randomPact(5, 1)
    expect(() => planAll(pact, { forcedFirst: 9 })).toThrow(/forcedFirst/)
    expect(() => planAll(pact, { maxJump: 0 })).toThrow(/maxJump/)
    expect(() => planAll({ steps: 5, data: new Float64Array(10) })).toThrow(/shape \[5, 6, 6\]/)
    expect(() => planAll(pact, { method: 'nope' as never })).toThrow(/allowed: exact, greedy, 2d/)
  })

  it('maxJump bounds every gap including the last one to N', () => {
    const pact = randomPact(20, 3, 0)
    for (const plan of planAll(pact, { maxJump: 5 })) {
      const ends = [...plan.keySteps, 20]
      for (let m = 1; m < ends.length; m++) expect(ends[m] - ends[m - 1]).toBeLessThanOrEqual(5)
    }
    expect(planAll(pact, { maxJump: 5, forcedFirst: 1 })[0].budget).toBe(4) // ceil(20 / 5)
    expect(planAll(pact, { maxJump: 5 })[0].budget).toBe(6) // 0, 1, 2, then 7, 12, 17
  })

  it('full budget is every step and costs the one-step errors', () => {
    const pact = randomPact(6, 9, 0)
    const plans = planAll(pact, { forcedFirst: 0 })
    const full = plans[plans.length - 1]
    expect(full.keySteps).toEqual([0, 1, 2, 3, 4, 5])
    expect(full.mask).toBe('111111')
  })
})
