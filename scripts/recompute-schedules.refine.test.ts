import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { parseSchedule, type Schedule } from '../src/core/schedule.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { calibrateFull, calibrationCases } from './lib/calibrate.ts'
import { finalImageError } from './lib/refine-plans.ts'
import { tmp } from './lib/schedules-test-kit.ts'
import { main } from './recompute-schedules.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

describe('npm run schedules: refinement options', () => {
  beforeEach(() => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  })
  afterEach(() => vi.restoreAllMocks())

  it('lets early-stopped climb states win selection, recorded, never worse on the selection seeds', async () => {
    // 4 samples and 3 forced steps: a setting where an early-stopped state wins on the toy model
    const args = [
      '--models-dir',
      'src/runtime/testdata',
      '--model',
      'toy-single',
      '--samples',
      '4',
      '--forced-first',
      '3',
      '--steps',
      '12',
      '--orders',
      '0,1,2',
      '--refine',
      '--refine-budgets',
      '4,5',
      '--refine-evals',
      '30',
      '--refine-random-evals',
      '30',
      '--refine-error',
      'log-mse',
    ]
    const run = async (extra: string[]) => {
      const dir = await tmp()
      expect(await main([...args, ...extra, '--out', dir])).toBe(0)
      const text = await readFile(join(dir, 'toy-single', '12.json'), 'utf8')
      return parseSchedule(JSON.parse(text))
    }
    const plain = await run([])
    const stopped = await run(['--refine-stops', '15,3,10,6'])
    expect(plain.refinement).not.toHaveProperty('stops')
    expect(stopped.refinement?.stops).toEqual([3, 6, 10, 15])
    expect(plain.refinement?.plans.some((p) => p.stoppedAfter)).toBe(false)
    const early = stopped.refinement!.plans.filter((p) => p.stoppedAfter)
    expect(early.length).toBeGreaterThan(0)
    for (const p of early) {
      expect([3, 6, 10, 15]).toContain(p.stoppedAfter)
      expect(p.shipped).toBe('refined')
      expect(p.moves.length).toBeGreaterThan(0)
    }

    // a superset of candidates: on the selection seeds the shipped plan can only improve
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const setup = { denoiser, steps: 12, guidance: stopped.calibration.guidance!, shift: 1 }
    const select = calibrationCases(4, 80000, 10)
    expect(stopped.refinement!.selectSeeds).toEqual(select.seeds)
    const { images: references } = await calibrateFull(denoiser, { ...setup, ...select })
    const judged = (s: Schedule, budget: number) => {
      const p = s.plans.find((q) => q.budget === budget)!
      const cand = { keySteps: p.keySteps, orders: p.orders! }
      return finalImageError(setup, { ...select, references }, cand, 'final-image-log-mse')
    }
    for (const { budget } of early) {
      const [a, b] = [await judged(plain, budget), await judged(stopped, budget)]
      expect(b).toBeLessThan(a)
    }
  })

  it('--refine-random-keys-only: random climbs move keys only, every segment order 1', async () => {
    const dir = await tmp()
    const argv = [
      ...['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--samples', '4'],
      ...['--forced-first', '1', '--steps', '12', '--orders', '0,1,2', '--refine'],
      ...['--refine-budgets', '6,7', '--refine-evals', '10', '--refine-random-evals', '40'],
      ...['--refine-error', 'log-mse', '--refine-random-keys-only', '--out', dir],
    ]
    expect(await main(argv)).toBe(0)
    const text = await readFile(join(dir, 'toy-single', '12.json'), 'utf8')
    const s = parseSchedule(JSON.parse(text))
    expect(s.refinement?.randomKeysOnly).toBe(true)
    // K = 7: a random climb wins on this toy setting; its plan keeps order 1 on every segment
    const won = s.refinement!.plans.filter((p) => p.from === 'random')
    expect(won.length).toBeGreaterThan(0)
    for (const p of won) {
      expect(p.moves.every((m) => m.startsWith('shift') || m.startsWith('move'))).toBe(true)
      expect(s.plans.find((q) => q.budget === p.budget)!.orders!.every((o) => o === 1)).toBe(true)
    }
  })

  it('records a second start only when the order-1 DP plan is one (--orders 0,2 has none)', async () => {
    const run = async (orders: string) => {
      const dir = await tmp()
      const argv = [
        ...['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--samples', '2'],
        ...['--steps', '8', '--orders', orders, '--refine', '--refine-budgets', '3'],
        ...['--refine-evals', '4', '--out', dir],
      ]
      expect(await main(argv)).toBe(0)
      return parseSchedule(JSON.parse(await readFile(join(dir, 'toy-single', '8.json'), 'utf8')))
    }
    const without = await run('0,2')
    expect(without.refinement).not.toHaveProperty('starts')
    expect(without.refinement!.plans[0]).not.toHaveProperty('from')
    const withOrder1 = await run('0,1,2')
    expect(withOrder1.refinement?.starts).toEqual(['dp', 'dp-order1'])
  })

  it('--refine-polish-evals: the selected plan climbs over orders too, and ships only if it wins selection', async () => {
    const run = async (extra: string[]) => {
      const dir = await tmp()
      const argv = [
        ...['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--samples', '4'],
        ...['--forced-first', '1', '--steps', '12', '--orders', '0,1,2', '--refine'],
        ...['--refine-budgets', '5,6,7', '--refine-evals', '10', '--refine-random-evals', '40'],
        ...['--refine-error', 'log-mse', '--refine-random-keys-only', '--out', dir, ...extra],
      ]
      expect(await main(argv)).toBe(0)
      return parseSchedule(JSON.parse(await readFile(join(dir, 'toy-single', '12.json'), 'utf8')))
    }
    const plain = await run([])
    const polished = await run(['--refine-polish-evals', '20'])
    expect(plain.refinement).not.toHaveProperty('polishEvals')
    expect(polished.refinement?.polishEvals).toBe(20)

    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const setup = { denoiser, steps: 12, guidance: polished.calibration.guidance!, shift: 1 }
    const select = calibrationCases(4, 80000, 10)
    const { images: references } = await calibrateFull(denoiser, { ...setup, ...select })
    const planOf = (s: Schedule, budget: number) => {
      const p = s.plans.find((q) => q.budget === budget)!
      return { keySteps: p.keySteps, orders: p.orders! }
    }
    const judged = (s: Schedule, budget: number) =>
      finalImageError(setup, { ...select, references }, planOf(s, budget), 'final-image-log-mse')
    let shipped = 0
    for (const rec of polished.refinement!.plans) {
      const before = plain.refinement!.plans.find((p) => p.budget === rec.budget)!
      // the polish runs after selection: the climbs and their record are the same
      expect({ ...rec, evals: 0, polished: undefined, shipped: 0 }).toEqual({
        ...before,
        evals: 0,
        shipped: 0,
      })
      expect(rec.evals).toBeGreaterThan(before.evals)
      expect(rec.evals).toBeLessThanOrEqual(before.evals + 20)
      if (!rec.polished) {
        expect(planOf(polished, rec.budget)).toEqual(planOf(plain, rec.budget))
        continue
      }
      shipped++
      expect(rec.shipped).toBe('refined')
      expect(rec.polished.moves.length).toBeGreaterThan(0)
      expect(planOf(polished, rec.budget)).not.toEqual(planOf(plain, rec.budget))
      expect(await judged(polished, rec.budget)).toBeLessThan(await judged(plain, rec.budget))
    }
    // on this toy setting K = 7 ships a polished plan that raises late segments to order 2
    expect(shipped).toBeGreaterThan(0)
    const k7 = polished.refinement!.plans.find((p) => p.budget === 7)!
    expect(k7.polished?.moves.some((m) => m.startsWith('order'))).toBe(true)
    expect(planOf(polished, 7).orders).toContain(2)
  })

  it('--forecast-spaces: the climbs run the spaces, the file is v3 and records them, the recipe replays', async () => {
    const argv = (dir: string, extra: string[]) => [
      ...['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--samples', '4'],
      ...['--forced-first', '1', '--steps', '12', '--orders', '0,1,2', '--refine'],
      ...['--refine-budgets', '4,6', '--refine-evals', '8', '--refine-error', 'log-mse'],
      ...['--out', dir, ...extra],
    ]
    const run = async (extra: string[]) => {
      const dir = await tmp()
      expect(await main(argv(dir, extra))).toBe(0)
      const text = await readFile(join(dir, 'toy-single', '12.json'), 'utf8')
      return { dir, text, s: parseSchedule(JSON.parse(text)) }
    }
    const plain = await run([])
    const mixed = await run(['--forecast-spaces', 'feature,noise'])
    expect(plain.s.schema).toBe('dpcache-schedule/v2')
    expect(plain.s.forecaster).not.toHaveProperty('spaces')
    expect(mixed.s.schema).toBe('dpcache-schedule/v3')
    expect(mixed.s.forecaster.spaces).toEqual(['feature', 'noise'])
    // the recorded start errors are the calibration runs' with the spaces, not without
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const setup = { denoiser, steps: 12, guidance: mixed.s.calibration.guidance!, shift: 1 }
    const cal = calibrationCases(4, 90000, 10)
    const { images: references } = await calibrateFull(denoiser, { ...setup, ...cal })
    const judge = { ...cal, references }
    for (const rec of mixed.s.refinement!.plans) {
      const withSpaces = await finalImageError(
        { ...setup, spaces: ['feature', 'noise'] },
        judge,
        rec.start,
        'final-image-log-mse',
      )
      const without = await finalImageError(setup, judge, rec.start, 'final-image-log-mse')
      expect(rec.startError).toBeCloseTo(withSpaces, 4)
      expect(Math.abs(rec.startError - without)).toBeGreaterThan(1e-3)
    }
    // the recipe records the spaces: the model alone reproduces the file byte for byte
    expect(
      await main([
        '--models-dir',
        'src/runtime/testdata',
        '--model',
        'toy-single',
        '--out',
        mixed.dir,
      ]),
    ).toBe(0)
    expect(await readFile(join(mixed.dir, 'toy-single', '12.json'), 'utf8')).toBe(mixed.text)
  })

  it('--refine-polish-spaces: the polish picks spaces per segment, the file is v4, the recipe replays', async () => {
    const dir = await tmp()
    const argv = [
      ...['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--samples', '4'],
      ...['--forced-first', '1', '--steps', '12', '--orders', '0,1,2', '--refine'],
      ...['--refine-budgets', '4,6', '--refine-evals', '8', '--refine-error', 'log-mse'],
      ...['--forecast-spaces', 'feature,noise', '--refine-polish-evals', '30'],
      ...['--refine-polish-spaces', 'feature+noise,feature,noise,feature+data', '--out', dir],
    ]
    expect(await main(argv)).toBe(0)
    const text = await readFile(join(dir, 'toy-single', '12.json'), 'utf8')
    const s = parseSchedule(JSON.parse(text))
    expect(s.schema).toBe('dpcache-schedule/v4')
    expect(s.refinement!.polishSpaces).toEqual([
      'feature+noise',
      'feature',
      'noise',
      'feature+data',
    ])
    const spaced = s.plans.filter((p) => p.spaces)
    // on this toy setting the polish gives at least one plan its own spaces
    expect(spaced.length).toBeGreaterThan(0)
    for (const p of spaced) {
      const rec = s.refinement!.plans.find((r) => r.budget === p.budget)!
      expect(rec.polished!.moves.some((m) => m.startsWith('spaces of segment'))).toBe(true)
      expect(p.spaces!.length).toBe(p.budget)
      expect(p.spaces!.some((v) => v !== 'feature+noise')).toBe(true)
      // the recorded polish error is the calibration run of the plan as shipped
      const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
      const setup = { denoiser, steps: 12, guidance: s.calibration.guidance!, shift: 1 }
      const cal = calibrationCases(4, 90000, 10)
      const { images: references } = await calibrateFull(denoiser, { ...setup, ...cal })
      const plan = { keySteps: p.keySteps, orders: p.orders!, spaces: p.spaces }
      const e = await finalImageError(
        { ...setup, spaces: ['feature', 'noise'] },
        { ...cal, references },
        plan,
        'final-image-log-mse',
      )
      expect(rec.polished!.error).toBeCloseTo(e, 4)
    }
    // the recipe records the per-segment spaces: the model alone reproduces the file
    expect(
      await main(['--models-dir', 'src/runtime/testdata', '--model', 'toy-single', '--out', dir]),
    ).toBe(0)
    expect(await readFile(join(dir, 'toy-single', '12.json'), 'utf8')).toBe(text)
  })
})
