import { describe, expect, it } from 'vitest'
import { CostModel, servedRows } from './warmup.ts'

describe('servedRows', () => {
  it('covers every batch size with and without guidance doubling, once each', () => {
    expect(servedRows(1)).toEqual([1, 2])
    expect(servedRows(3)).toEqual([1, 2, 3, 4, 6])
    expect(servedRows(16)).toHaveLength(24)
  })
})

describe('CostModel', () => {
  const costs = () => {
    const m = new CostModel()
    // trunk 1 ms + 0.5 ms per row, head 0.1 ms per row
    m.set('m', { trunk: { intercept: 1, perRow: 0.5 }, head: { intercept: 0, perRow: 0.1 } })
    return m
  }
  it('predicts a run from per-call costs at its row count', () => {
    const run = { rows: 4, steps: 50, nfe: 10 }
    // 10 trunk calls of 3 ms + 50 head calls of 0.4 ms = 50 ms, nothing learned yet on top
    expect(costs().estimateMs('m', run)).toBeCloseTo(50, 6)
    expect(costs().estimateMs('other', run)).toBeUndefined()
  })
  it('learns what a step costs beyond the graph calls, and adds it (not multiplies it)', () => {
    const m = costs()
    const small = { rows: 4, steps: 50, nfe: 10 }
    for (let k = 0; k < 30; k++) m.observe('m', small, 100) // 50 ms of calls + 1 ms a step
    expect(m.estimateMs('m', small)).toBeCloseTo(100, 0)
    // 32 rows: calls 10 x 17 + 50 x 3.2 = 330 ms, plus the same 50 ms of steps
    expect(m.estimateMs('m', { rows: 32, steps: 50, nfe: 10 })).toBeCloseTo(380, 0)
  })
})
