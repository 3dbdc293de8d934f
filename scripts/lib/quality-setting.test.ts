import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { loadModel } from '../../src/runtime/engine.ts'
import { calibrateFull, calibrationCases } from './calibrate.ts'
import { entriesFor, type SettingInput } from './quality-setting.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

describe('bench:quality entries with forecast spaces (a v3 schedule)', () => {
  it('the shipped row and the DP ablation forecast in its spaces; BudCache both ways', async () => {
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const steps = 8
    const common = { steps, guidance: 2, shift: 1 }
    const cal = calibrationCases(2, 90000, 10)
    const tune = calibrationCases(2, 80000, 10)
    const calRun = await calibrateFull(denoiser, { ...common, ...cal })
    const tuneRun = await calibrateFull(denoiser, { ...common, ...tune })
    const spaces = ['feature', 'noise']
    const plan = { keySteps: [0, 3, 6], orders: [1, 2, 1], order: 1 }
    const input: SettingInput = {
      denoiser,
      ...common,
      tune: {
        denoiser,
        cases: tune.seeds.map((seed, k) => ({ seed, class: tune.classes[k] })),
        references: tuneRun.images,
        guidance: 2,
        shift: 1,
      },
      cal: { ...calRun, ...cal },
      spaces,
      shipped: new Map([[3, plan]]),
      pact: { steps, data: new Float64Array(steps * (steps + 1) * (steps + 1)) },
      forcedFirst: 1,
      ablations: [
        { label: 'with spaces', plans: new Map([[3, plan]]), spaces },
        { label: 'feature only', plans: new Map([[3, plan]]) },
      ],
      budcacheEvals: 6,
      budcacheErrors: ['final-image-mse'],
      budcacheWithShippedSpaces: 'final-image-log-mse',
      only: ['dpcache', 'budcache'],
      hidden: 1,
      log: () => {},
    }
    const rows = await entriesFor(input, 3)
    const row = (method: string, variant?: string) =>
      rows.find((e) => e.method === method && e.variant === variant)!
    expect(rows.map((e) => [e.method, e.variant])).toEqual([
      ['dpcache', undefined],
      ['dpcache', 'with spaces'],
      ['dpcache', 'feature only'],
      ['budcache', undefined],
      ['budcache', 'judged by final-image-log-mse, forecast feature+noise'],
    ])
    expect(row('dpcache').recipe.spaces).toEqual(spaces)
    expect(row('dpcache').setting).toBe('orders 121, forecast feature+noise')
    expect(row('dpcache', 'with spaces').recipe.spaces).toEqual(spaces)
    expect(row('dpcache', 'feature only').recipe.spaces).toBeUndefined()
    expect(row('budcache').recipe.spaces).toBeUndefined()
    const bud = row('budcache', 'judged by final-image-log-mse, forecast feature+noise')
    expect(bud.recipe.spaces).toEqual(spaces)
    expect(bud.recipe.orders).toBeUndefined()
    // --only budcache: the ablations stay out
    const only = await entriesFor({ ...input, only: ['budcache'], budcacheErrors: [] }, 3)
    expect(only.map((e) => e.variant)).toEqual([
      undefined,
      'judged by final-image-log-mse, forecast feature+noise',
    ])
  })
})
