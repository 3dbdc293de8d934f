import { describe, expect, it } from 'vitest'
import { qualityArgs, range } from './quality-args.ts'

describe('bench:quality arguments', () => {
  it('defaults: 30 held-out seeds, every setting, both BudCache forecasters, wasm', () => {
    const a = qualityArgs([])
    expect(a.seeds).toEqual(Array.from({ length: 30 }, (_, k) => k))
    expect(a.settings).toEqual([
      { steps: 50, budgets: [4, 5, 6, 8, 10, 13, 17, 25] },
      { steps: 20, budgets: [4, 8] },
      { steps: 28, budgets: [6, 10] },
    ])
    expect(a).toMatchObject({ backend: 'wasm', budcacheSpaces: 'both', only: undefined })
    expect(a).toMatchObject({ tuneSeeds: 8, chunk: 30, lemicaSeeds: 2, guidance: undefined })
    expect(a.lemicaCap).toBeUndefined()
    expect(a.budcacheEvals).toBeUndefined()
  })

  it('BudCache is judged as specified plus by the shipped refinement error, unless told', () => {
    expect(qualityArgs([]).budcacheErrors('final-image-log-mse')).toEqual([
      'final-image-mse',
      'final-image-log-mse',
    ])
    expect(qualityArgs([]).budcacheErrors('final-image-mse')).toEqual(['final-image-mse'])
    expect(qualityArgs([]).budcacheErrors()).toEqual(['final-image-mse'])
    const told = qualityArgs(['--budcache-errors', 'log-mse'])
    expect(told.budcacheErrors('final-image-mse')).toEqual(['final-image-log-mse'])
  })

  it('a partial rerun: --only names what it runs; shipped alone runs no other method', () => {
    expect(qualityArgs(['--only', 'dpcache,budcache']).only).toEqual(['dpcache', 'budcache'])
    expect(qualityArgs(['--only', 'shipped']).only).toEqual([])
    expect(() => qualityArgs(['--only', 'lemica'])).toThrow(
      /--only lemica: expected some of shipped, dpcache, budcache/,
    )
  })

  it('rejects what would run a different bench than asked, before any model runs', () => {
    const bad: [string[], RegExp][] = [
      [['--seeds', '79990..80010'], /overlap the tuning/],
      [['--seeds', '5..2'], /--seeds 5..2: expected a..b/],
      [['--seeds', '1,x'], /--seeds 1,x/],
      [['--settings', '50:4,abc'], /--settings 50:4,abc: expected STEPS:K/],
      [['--settings', '20:4;28:30'], /--settings 28:30/],
      [['--settings', '20:0'], /--settings 20:0/],
      [['--backend', 'webgpu'], /--backend webgpu: expected some of wasm, cpu/],
      [['--budcache-spaces', 'noise'], /--budcache-spaces noise/],
      [['--budcache-errors', 'l1'], /--budcache-errors l1/],
      [['--tune-seeds', '0'], /--tune-seeds 0: expected a positive integer/],
      [['--chunk', '2.5'], /--chunk 2.5/],
      [['--budcache-evals', '0'], /--budcache-evals 0/],
      [['--guidance', 'high'], /--guidance high: expected a non-negative number/],
      [['--sedes', '0..9'], /Unknown option '--sedes'/],
    ]
    for (const [argv, message] of bad)
      expect(() => qualityArgs(argv), argv.join(' ')).toThrow(message)
  })

  it('ranges: inclusive a..b or a list', () => {
    expect(range('seeds', '3..5')).toEqual([3, 4, 5])
    expect(range('seeds', '7')).toEqual([7])
    expect(range('classes', '0,2,4')).toEqual([0, 2, 4])
  })
})
