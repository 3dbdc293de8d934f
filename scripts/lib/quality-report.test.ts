import { describe, expect, it } from 'vitest'
import { headlines, renderReport, repairRows, type Row } from './quality-report.ts'

const row = (method: string, mean: number, diff?: number, se = 0.5, variant?: string): Row => ({
  steps: 50,
  budget: 10,
  method,
  variant,
  nfe: 10,
  msPerImage: 1,
  ssim: 1,
  accuracy: null,
  frechet: null,
  mean,
  se: 0.5,
  pooled: mean,
  paired: diff === undefined ? null : { diff, se, wins: 0.5 },
  psnrs: [],
})

describe('headlines', () => {
  const rows = [
    row('dpcache', 38),
    // the shipped plan's own ablations never count as "other methods"
    row('dpcache', 39, -1, 0.2, 'DP, order 1 only'),
    row('dpcache-greedy', 37.5, 0.5),
    row('budcache', 36, 2, 0.4),
    row('lemica', 30, 8, 0.5),
  ]
  it('names the best other method (paper planners included), the close ones, and the best outside DPCache', () => {
    const [h] = headlines(rows)
    expect(h.best.method).toBe('dpcache-greedy')
    expect(h.margin.diff).toBe(0.5)
    expect(h.close).toEqual(['dpcache-greedy'])
    expect(h.bestOutside.method).toBe('budcache')
    expect(h.met).toBe(false)
    expect(renderReport({}, rows)).toContain('| dpcache-greedy | budcache: +2.00 +- 0.40 |')
  })
  it('is met only when every other method is two paired standard errors behind', () => {
    const [h] = headlines(rows.filter((r) => r.method !== 'dpcache-greedy'))
    expect(h.close).toEqual([])
    expect(h.met).toBe(true)
  })
  it('has no headline for a setting with only DPCache rows (a --only dpcache run), and still renders', () => {
    const shipped = rows.slice(0, 3)
    expect(headlines(shipped)).toEqual([])
    expect(renderReport({}, shipped)).toContain('| 50 | 10 | dpcache |')
  })
})

describe('repairRows', () => {
  it("pairs every row against its own setting's shipped row, from the per-seed PSNRs", () => {
    const at = (r: Row, steps: number, psnrs: number[]): Row => ({ ...r, steps, psnrs })
    const rows = repairRows([
      at(row('dpcache', 0), 50, [30, 32, 34]),
      // a stale pairing from before the shipped row was rerun is replaced
      at(row('budcache', 0, 9, 9), 50, [29, 31, 35]),
      at(row('dpcache', 0), 20, [20, 20, 20]),
      at(row('lemica', 0), 20, [19, 18, 20]),
      // no shipped row at this setting: nothing to pair with
      at(row('lemica', 0, 1), 28, [1, 2, 3]),
    ])
    expect(rows[0].paired).toBeNull()
    expect(rows[1].paired!.diff).toBeCloseTo(1 / 3)
    expect(rows[1].paired!.wins).toBeCloseTo(2 / 3)
    expect(rows[1].paired!.se).toBeCloseTo(Math.sqrt(4 / 3 / 3))
    expect(rows[3].paired!.diff).toBeCloseTo(1)
    expect(rows[4].paired).toBeNull()
  })
})
