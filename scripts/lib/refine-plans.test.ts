import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { maskOf } from '../../src/core/planner.ts'
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample } from '../../src/core/sampler.ts'
import { parseSchedule } from '../../src/core/schedule.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { loadModel } from '../../src/runtime/engine.ts'
import { calibrateFull } from './calibrate.ts'
import { finalImageError, refinementRuns } from './refine-plans.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

describe('finalImageError', () => {
  it('is the mean per-seed MSE, or the mean of its logarithm, of the cached run', async () => {
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const setup = { denoiser, steps: 10, guidance: 2, shift: 1 }
    const seeds = [5, 6, 7]
    const classes = [0, 1, 2]
    const { images: references } = await calibrateFull(denoiser, { ...setup, seeds, classes })
    const judge = { seeds, classes, references }
    const cand = { keySteps: [0, 3, 7], orders: [0, 1, 2] }
    // the same cached run, by hand: one MSE per seed
    const run = await sample(denoiser, flowEuler, {
      ...setup,
      seeds,
      classes,
      order: 2,
      orders: cand.orders,
      policy: new StaticMaskPolicy(maskOf(10, cand.keySteps)),
    })
    const size = run.images.data.length / seeds.length
    const perSeed = references.map((ref, b) => {
      let e = 0
      for (let k = 0; k < size; k++) e += (run.images.data[b * size + k] - ref[k]) ** 2
      return e / size
    })
    expect(perSeed.every((e) => e > 0)).toBe(true)
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
    expect(await finalImageError(setup, judge, cand)).toBeCloseTo(mean(perSeed), 12)
    expect(await finalImageError(setup, judge, cand, 'final-image-log-mse')).toBeCloseTo(
      mean(perSeed.map(Math.log)),
      9,
    )
    // the full run reproduces the references exactly: an exact match is log(1e-20), not -Infinity
    const full = { keySteps: Array.from({ length: 10 }, (_, i) => i), orders: Array(10).fill(0) }
    expect(await finalImageError(setup, judge, full)).toBe(0)
    expect(await finalImageError(setup, judge, full, 'final-image-log-mse')).toBeCloseTo(
      Math.log(1e-20),
    )
  })
})

describe('refinementRuns', () => {
  it("bounds the runs every committed refinement spent per budget (BudCache's default)", async () => {
    for (const model of ['tiny-dit-mnist', 'tiny-dit-fashion']) {
      for (const steps of [20, 28, 50]) {
        const text = await readFile(`schedules/${model}/${steps}.json`, 'utf8')
        const r = parseSchedule(JSON.parse(text)).refinement!
        expect(refinementRuns(r)).toBe(300)
        for (const p of r.plans) expect(p.evals).toBeLessThanOrEqual(300)
      }
    }
    expect(refinementRuns({ maxEvals: 20 })).toBe(20)
    expect(refinementRuns({ maxEvals: 10, starts: ['dp', 'dp-order1'], polishEvals: 4 })).toBe(24)
  })
})
