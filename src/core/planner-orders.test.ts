import { describe, expect, it } from 'vitest'
import { pactIndex, type Pact } from './pact.ts'
import { minOverOrders, planAllOrders } from './planner-orders.ts'
import { Rng } from './rng.ts'

const uniforms = (seed: number) => {
  const rng = new Rng(seed)
  return () => rng.uniform()
}

function randomPact(steps: number, rand: () => number): Pact {
  const data = new Float64Array(steps * (steps + 1) * (steps + 1)).fill(Infinity)
  for (let i = 0; i < steps; i++)
    for (let p = 0; p <= i; p++)
      for (let j = i + 1; j <= steps; j++) data[pactIndex(steps, p, i, j)] = rand()
  return { steps, data }
}

/** Every key set from 0 with `budget` keys, every order per segment: the true optimum. */
function bruteForce(
  byOrder: { order: number; pact: Pact }[],
  steps: number,
  budget: number,
  forcedFirst: number,
): number {
  let best = Infinity
  const keysets: number[][] = []
  const grow = (keys: number[]) => {
    if (keys.length === budget) return void keysets.push(keys)
    for (let t = keys[keys.length - 1] + 1; t < steps; t++) grow([...keys, t])
  }
  grow([0])
  for (const keys of keysets) {
    if (
      Array.from({ length: Math.min(forcedFirst, steps) }, (_, t) => t).some(
        (t) => !keys.includes(t),
      )
    )
      continue
    let cost = 0
    keys.forEach((i, m) => {
      const p = m === 0 ? i : keys[m - 1]
      const j = m + 1 < keys.length ? keys[m + 1] : steps
      cost += Math.min(...byOrder.map(({ pact }) => pact.data[pactIndex(steps, p, i, j)]))
    })
    best = Math.min(best, cost)
  }
  return best
}

describe('planAllOrders', () => {
  it('matches brute force over keys and per-segment orders on random tensors', () => {
    for (let trial = 0; trial < 6; trial++) {
      const rand = uniforms(100 + trial)
      const steps = 6 + (trial % 3)
      const byOrder = [0, 1, 2].map((order) => ({ order, pact: randomPact(steps, rand) }))
      const forcedFirst = trial % 2
      const plans = planAllOrders({ byOrder }, { forcedFirst })
      for (const plan of plans) {
        expect(plan.cost).toBeCloseTo(bruteForce(byOrder, steps, plan.budget, forcedFirst), 10)
        // the recorded orders reproduce the cost segment by segment
        let again = 0
        plan.keySteps.forEach((i, m) => {
          const p = m === 0 ? i : plan.keySteps[m - 1]
          const j = m + 1 < plan.budget ? plan.keySteps[m + 1] : steps
          again += byOrder[plan.orders[m]].pact.data[pactIndex(steps, p, i, j)]
        })
        expect(again).toBeCloseTo(plan.cost, 10)
      }
      expect(plans.map((p) => p.budget)).toEqual(
        Array.from(
          { length: steps - Math.max(forcedFirst, 1) + 1 },
          (_, k) => Math.max(forcedFirst, 1) + k,
        ),
      )
    }
  })

  it('never costs more than any single order, and picks the order that is cheapest', () => {
    const rand = uniforms(7)
    const byOrder = [0, 1, 2].map((order) => ({ order, pact: randomPact(7, rand) }))
    const { pact, argmin } = minOverOrders({ byOrder })
    const k = pactIndex(7, 1, 2, 5)
    expect(pact.data[k]).toBe(Math.min(...byOrder.map((b) => b.pact.data[k])))
    expect(byOrder[argmin[k]].pact.data[k]).toBe(pact.data[k])
    const mixed = planAllOrders({ byOrder })
    for (const single of byOrder) {
      const alone = planAllOrders({ byOrder: [single] })
      alone.forEach((p, b) => expect(mixed[b].cost).toBeLessThanOrEqual(p.cost + 1e-12))
      expect(alone.every((p) => p.orders.every((r) => r === single.order))).toBe(true)
    }
  })

  it('refuses tensors of different shapes', () => {
    const rand = uniforms(1)
    expect(() =>
      minOverOrders({
        byOrder: [
          { order: 0, pact: randomPact(5, rand) },
          { order: 1, pact: randomPact(6, rand) },
        ],
      }),
    ).toThrow(/another shape/)
  })
})
