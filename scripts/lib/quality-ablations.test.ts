import { describe, expect, it } from 'vitest'
import { benchPlans, dpcacheAblations } from './quality-ablations.ts'

const shipped = [
  { budget: 3, keySteps: [0, 4, 9], orders: [1, 2, 1], spaces: ['noise', 'feature', 'feature'] },
  { budget: 4, keySteps: [0, 2, 6, 9], orders: [1, 1, 1, 2] },
]
const dp = [{ budget: 3, keySteps: [0, 5, 8], orders: [1, 1, 2] }]
const dp1 = [{ budget: 3, keySteps: [0, 3, 7] }]

describe('quality ablations', () => {
  it('bench plans keep per-segment spaces unless told to drop them', () => {
    expect(benchPlans(shipped, 1).get(3)).toEqual({
      keySteps: [0, 4, 9],
      orders: [1, 2, 1],
      order: 1,
      spaces: ['noise', 'feature', 'feature'],
    })
    expect(benchPlans(shipped, 1, false).get(3)).not.toHaveProperty('spaces')
    expect(benchPlans(shipped, 1).get(4)).not.toHaveProperty('spaces')
  })

  it('each row takes one ingredient away; rows whose ingredient is absent are left out', () => {
    const v4 = dpcacheAblations({
      forecaster: { order: 1, orders: [0, 1, 2], spaces: ['feature', 'noise'] },
      shipped,
      dp,
      dp1,
    })
    expect(v4.map((r) => r.label)).toEqual([
      'DP, order 1 only (v1 recipe)',
      'DP, per-segment orders, not refined',
      'shipped plans, forecast feature only',
      'shipped plans, forecast feature+noise everywhere',
    ])
    // the v1 row forecasts the feature at order 1; the DP row in the schedule's spaces
    expect(v4[0]).not.toHaveProperty('spaces')
    expect(v4[0].plans.get(3)).toEqual({ keySteps: [0, 3, 7], orders: undefined, order: 1 })
    expect(v4[1].spaces).toEqual(['feature', 'noise'])
    // feature only: no spaces at all; everywhere: the schedule's, no per-segment ones
    expect(v4[2].spaces).toBeUndefined()
    expect([...v4[2].plans.values()].every((p) => !p.spaces)).toBe(true)
    expect(v4[3].spaces).toEqual(['feature', 'noise'])
    expect(v4[3].plans.get(3)).toEqual({ keySteps: [0, 4, 9], orders: [1, 2, 1], order: 1 })
    // a v2 schedule (orders, no spaces) has the first two rows only
    const v2 = dpcacheAblations({
      forecaster: { order: 1, orders: [0, 1, 2] },
      shipped: shipped.map(({ spaces: _s, ...p }) => p),
      dp,
      dp1,
    })
    expect(v2.map((r) => r.label)).toEqual([
      'DP, order 1 only (v1 recipe)',
      'DP, per-segment orders, not refined',
    ])
  })
})
