import { describe, expect, it } from 'vitest'
import {
  buildPact,
  buildPact4,
  featureError,
  pact4Index,
  pactIndex,
  type Trajectory,
} from './pact.ts'
import { planAll } from './planner.ts'
import { pathCost4, planAllTriple } from './planner-triple.ts'
import { Rng } from './rng.ts'

function polyTrajectory(steps: number, deg: number, size: number, seed: number): Trajectory {
  const rng = new Rng(seed)
  const c = Array.from({ length: size }, () => Array.from({ length: deg + 1 }, () => rng.normal()))
  return Array.from({ length: steps }, (_, t) =>
    Float32Array.from(c, (ck) => ck.reduce((s, a, m) => s + a * (t / steps) ** m, 0)),
  )
}

function randomTrajectory(steps: number, size: number, seed: number): Trajectory {
  const rng = new Rng(seed)
  return Array.from({ length: steps }, () =>
    Float32Array.from({ length: size }, () => rng.normal()),
  )
}

describe('buildPact', () => {
  it('costs zero on linear trajectories for order 1 (every feasible entry)', () => {
    const pact = buildPact([polyTrajectory(8, 1, 5, 1), polyTrajectory(8, 1, 5, 2)], { order: 1 })
    for (let i = 1; i < 8; i++) {
      for (let p = 0; p < i; p++) {
        for (let j = i + 1; j <= 8; j++) expect(pact.data[pactIndex(8, p, i, j)]).toBeLessThan(1e-5)
      }
    }
  })

  it('costs zero on quadratics for order 2 with the p-1 history, not for order 1', () => {
    const trajs = [polyTrajectory(10, 2, 4, 3)]
    const o2 = buildPact(trajs, { order: 2 })
    const o1 = buildPact(trajs, { order: 1 })
    expect(o2.data[pactIndex(10, 4, 7, 10)]).toBeLessThan(1e-5)
    expect(o1.data[pactIndex(10, 4, 7, 10)]).toBeGreaterThan(1e-4)
  })

  it('matches a hand computation, with and without the arrival step', () => {
    // N = 4, one scalar feature per step: 0, 1, 3, 7. Order 1 from keys (0, 1): forecast 2, 3.
    const traj: Trajectory = [0, 1, 3, 7].map((v) => Float32Array.of(v))
    const withArrival = buildPact([traj], { order: 1 })
    // C[0][1][3] = |2 - 3| + |3 - 7| = 5 ; excluding the arrival step 3: only |2 - 3| = 1
    expect(withArrival.data[pactIndex(4, 0, 1, 3)]).toBeCloseTo(5, 6)
    const without = buildPact([traj], { order: 1, includeArrival: false })
    expect(without.data[pactIndex(4, 0, 1, 3)]).toBeCloseTo(1, 6)
    // j = N: the sum stops at N - 1 in both variants
    expect(withArrival.data[pactIndex(4, 0, 1, 4)]).toBeCloseTo(5, 6)
    expect(without.data[pactIndex(4, 0, 1, 4)]).toBeCloseTo(5, 6)
    // first key alone is order 0: C[0][0][2] = |0 - 1| + |0 - 3| = 4
    expect(withArrival.data[pactIndex(4, 0, 0, 2)]).toBeCloseTo(4, 6)
    // infeasible entries
    expect(withArrival.data[pactIndex(4, 1, 1, 2)]).toBe(Infinity)
    expect(withArrival.data[pactIndex(4, 0, 2, 2)]).toBe(Infinity)
  })

  it('averages over trajectories and supports the other metrics', () => {
    const a: Trajectory = [0, 0, 0].map((v) => Float32Array.of(v, v))
    const b: Trajectory = [0, 0, 4].map((v) => Float32Array.of(v, 0))
    const l1 = buildPact([a, b], { order: 0 })
    expect(l1.data[pactIndex(3, 0, 1, 2)]).toBeCloseTo((0 + 2) / 2, 6)
    const mse = buildPact([a, b], { order: 0, metric: 'mse' })
    expect(mse.data[pactIndex(3, 0, 1, 2)]).toBeCloseTo((0 + 8) / 2, 6)
    expect(featureError(Float32Array.of(1, 1), Float32Array.of(2, 2), 'rel-l1')).toBeCloseTo(0.5, 6)
  })

  it('rejects ragged trajectories with the offending index', () => {
    expect(() => buildPact([randomTrajectory(4, 3, 1), randomTrajectory(5, 3, 2)])).toThrow(
      /trajectory 1 has 5 steps/,
    )
    expect(() => buildPact([])).toThrow(/at least one/)
  })
})

describe('buildPact4 (exact order-2 cost)', () => {
  it('agrees with the 3-D p-1 tensor whenever the real key before p is p-1', () => {
    const trajs = [randomTrajectory(9, 6, 5), randomTrajectory(9, 6, 6)]
    const c3 = buildPact(trajs, { order: 2 })
    const c4 = buildPact4(trajs)
    for (const [p, i, j] of [
      [3, 5, 8],
      [1, 4, 9],
      [6, 7, 9],
    ]) {
      expect(c4.data[pact4Index(9, p - 1, p, i, j)]).toBeCloseTo(c3.data[pactIndex(9, p, i, j)], 9)
    }
    // first keys: history [0] and [0, i] are the same forecasts in both tensors
    expect(c4.data[pact4Index(9, 0, 0, 0, 3)]).toBeCloseTo(c3.data[pactIndex(9, 0, 0, 3)], 9)
    expect(c4.data[pact4Index(9, 0, 0, 4, 7)]).toBeCloseTo(c3.data[pactIndex(9, 0, 4, 7)], 9)
  })

  it('the triple DP matches brute force over key subsets', () => {
    const n = 9
    const c4 = buildPact4([randomTrajectory(n, 3, 11)])
    const plans = planAllTriple(c4, { forcedFirst: 1 })
    for (const plan of plans) {
      let best = Infinity
      for (let bits = 0; bits < 1 << (n - 1); bits++) {
        const keys = [0]
        for (let s = 1; s < n; s++) if (bits & (1 << (s - 1))) keys.push(s)
        if (keys.length === plan.budget) best = Math.min(best, pathCost4(c4, keys))
      }
      expect(plan.cost).toBeCloseTo(best, 9)
    }
    expect(plans.map((p) => p.budget)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('on quadratic trajectories the exact cost is zero once three keys exist', () => {
    const c4 = buildPact4([polyTrajectory(8, 2, 3, 4)])
    expect(c4.data[pact4Index(8, 0, 3, 5, 8)]).toBeLessThan(1e-5)
    expect(c4.data[pact4Index(8, 1, 2, 5, 8)]).toBeLessThan(1e-5)
    // the first two keys cannot support order 2: their segments cost something
    expect(c4.data[pact4Index(8, 0, 0, 1, 4)]).toBeGreaterThan(1e-4)
    // and the 3-D planner with an order-2 p-1 tensor still finds a finite plan
    expect(planAll(buildPact([polyTrajectory(8, 2, 3, 4)], { order: 2 }))[0].cost).toBeLessThan(
      Infinity,
    )
  })
})
