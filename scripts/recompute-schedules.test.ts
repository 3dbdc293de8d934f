import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeNpy } from '../src/core/npy.ts'
import { pactIndex } from '../src/core/pact.ts'
import { planAll } from '../src/core/planner.ts'
import { parseSchedule, parseScheduleIndex } from '../src/core/schedule.ts'
import { writeFileAtomic } from './lib/atomic.ts'
import { rebuildIndex } from './lib/schedule-writer.ts'
import { main } from './recompute-schedules.ts'
import { listing, tmp, toy } from './lib/schedules-test-kit.ts'

describe('npm run schedules', () => {
  beforeEach(() => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  })
  afterEach(() => vi.restoreAllMocks())

  it('is deterministic: two runs give byte-identical files', async () => {
    const [a, b] = [await tmp(), await tmp()]
    expect(await main([...toy, '--steps', '8', '--steps', '10', '--out', a])).toBe(0)
    expect(await main([...toy, '--steps', '10', '--steps', '8', '--out', b])).toBe(0)
    const [la, lb] = [await listing(a), await listing(b)]
    expect(Object.keys(la).sort()).toEqual(
      [
        '/index.json',
        '/toy-single/recipe.json',
        ...[8, 10].flatMap((n) =>
          ['json', 'pact.npy', 'pact.json', 'errors.svg', 'costs.svg', 'keys.svg'].map(
            (s) => `/toy-single/${n}.${s}`,
          ),
        ),
      ].sort(),
    )
    expect(la).toEqual(lb)
    const s = parseSchedule(JSON.parse(await readFile(join(a, 'toy-single', '10.json'), 'utf8')))
    expect(s.calibration).toMatchObject({
      source: 'calibrated',
      samples: 3,
      seeds: [90000, 90001, 90002],
      classes: [0, 1, 2],
    })
    expect(s.plans.map((p) => p.budget)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('per-segment orders and refinement: deterministic, recorded, never worse than the DP plan', async () => {
    const args = [
      ...toy,
      '--steps',
      '8',
      '--orders',
      '0,1,2',
      '--refine',
      '--refine-budgets',
      '3,4',
      '--refine-evals',
      '6',
      '--refine-random-evals',
      '8',
      '--refine-error',
      'log-mse',
    ]
    const [a, b] = [await tmp(), await tmp()]
    expect(await main([...args, '--out', a])).toBe(0)
    expect(await main([...args, '--out', b])).toBe(0)
    const [la, lb] = [await listing(a), await listing(b)]
    expect(la).toEqual(lb)
    expect(Object.keys(la)).toEqual(
      expect.arrayContaining(['/toy-single/8.pact-order0.npy', '/toy-single/8.pact-order2.npy']),
    )
    const s = parseSchedule(JSON.parse(await readFile(join(a, 'toy-single', '8.json'), 'utf8')))
    expect(s.schema).toBe('dpcache-schedule/v2')
    expect(s.forecaster.orders).toEqual([0, 1, 2])
    expect(s.calibration.pactFiles?.map((f) => f.order)).toEqual([0, 1, 2])
    expect(s.plans.every((p) => p.orders?.length === p.budget)).toBe(true)
    const rec = s.refinement!
    expect(rec).toMatchObject({
      method: 'hill-climb',
      error: 'final-image-log-mse',
      seeds: [90000, 90001, 90002],
      selectSeeds: [80000, 80001, 80002],
      maxEvals: 6,
      // several orders: the order-1-only DP plan is searched from as well
      starts: ['dp', 'dp-order1'],
      randomEvals: 8,
    })
    expect(rec.plans.map((p) => p.budget)).toEqual([3, 4])
    for (const r of rec.plans) {
      // each start's climb, then random climbs until fewer than 2 of their 8 runs are left
      expect(r.evals).toBeGreaterThanOrEqual(1 + 7)
      expect(r.evals).toBeLessThanOrEqual(6 * 2 + 8)
      expect(['dp', 'dp-order1', 'random']).toContain(r.from)
      if (r.from !== 'dp') expect(r.start.orders.every((o) => o === 1)).toBe(true)
      // a random start competes only through its climbed result
      if (r.from === 'random') expect(r.shipped).toBe('refined')
      expect(r.error).toBeLessThanOrEqual(r.startError)
      const plan = s.plans.find((p) => p.budget === r.budget)!
      if (r.shipped === 'dp')
        expect({ keySteps: plan.keySteps, orders: plan.orders }).toEqual(r.start)
    }
    // --orders plans on 3-D tensors; refinement cannot run on an imported tensor
    expect(await main([...toy, '--steps', '8', '--orders', '0,5', '--out', a])).toBe(2)
    expect(
      await main([
        '--import-pact',
        'x.npy',
        '--model',
        'm',
        '--steps',
        '8',
        '--refine',
        '--out',
        a,
      ]),
    ).toBe(2)
  })

  it('draws every figure for both cost variants (no empty or NaN plots)', async () => {
    for (const variant of [[], ['--no-arrival', '--metric', 'mse']]) {
      const dir = await tmp()
      expect(await main([...toy, ...variant, '--steps', '8', '--out', dir])).toBe(0)
      for (const fig of ['errors', 'costs', 'keys']) {
        const svg = await readFile(join(dir, 'toy-single', `8.${fig}.svg`), 'utf8')
        expect(svg).not.toMatch(/NaN|Infinity/)
        expect(svg).toMatch(fig === 'keys' ? /<rect x=/ : /<path d="M[0-9]/)
      }
    }
  })

  it('plans an imported .npy tensor exactly as the planner does', async () => {
    const dir = await tmp()
    const n = 7
    const data = new Float64Array(n * (n + 1) * (n + 1)).fill(Infinity)
    for (let i = 0; i < n; i++)
      for (let p = 0; p < Math.max(i, 1); p++)
        for (let j = i + 1; j <= n; j++)
          data[pactIndex(n, p, i, j)] = (j - i) ** 2 + ((p * 7 + i * 3 + j) % 5) / 10
    await writeFile(join(dir, 'in.npy'), writeNpy({ shape: [n, n + 1, n + 1], data }))
    const code = await main([
      '--import-pact',
      join(dir, 'in.npy'),
      '--model',
      'imported-x',
      '--steps',
      '7',
      '--forced-first',
      '2',
      '--max-jump',
      '4',
      '--order',
      '2',
      '--licence',
      'Apache-2.0',
      '--source',
      'a test tensor',
      '--out',
      join(dir, 'out'),
    ])
    expect(code).toBe(0)
    const s = parseSchedule(
      JSON.parse(await readFile(join(dir, 'out', 'imported-x', '7.json'), 'utf8')),
    )
    const want = planAll({ steps: n, data }, { forcedFirst: 2, maxJump: 4 })
    expect(s.plans.map((p) => p.keySteps)).toEqual(want.map((p) => p.keySteps))
    expect(s).toMatchObject({
      modelSha256: null,
      solver: { shift: null },
      forecaster: { order: 2 },
      calibration: {
        source: 'imported',
        samples: null,
        seeds: null,
        classes: null,
        guidance: null,
        origin: { source: 'a test tensor', licence: 'Apache-2.0' },
      },
      planner: { forcedFirst: 2, maxJump: 4 },
    })
    const greedy = planAll({ steps: n, data }, { method: 'greedy', forcedFirst: 2, maxJump: 4 })
    expect(s.plans.map((p) => p.greedyCost)).toEqual(
      greedy.map((p) => Number(p.cost.toPrecision(6))),
    )
    // a tensor of the wrong shape for --steps is a usage error, and so is one without a licence
    expect(
      await main([
        '--import-pact',
        join(dir, 'in.npy'),
        '--model',
        'imported-y',
        '--steps',
        '8',
        '--licence',
        'MIT',
        '--out',
        join(dir, 'out'),
      ]),
    ).toBe(2)
    expect(
      await main([
        '--import-pact',
        join(dir, 'in.npy'),
        '--model',
        'imported-y',
        '--steps',
        '7',
        '--out',
        join(dir, 'out'),
      ]),
    ).toBe(2)
    // raw float64 with a .json beside it (the form of the paper's release): same plans, source from the .json
    await writeFile(join(dir, 'in.f64'), new Uint8Array(data.buffer))
    await writeFile(
      join(dir, 'in.json'),
      JSON.stringify({ shape: [n, n + 1, n + 1], dtype: 'float64-le', source: 'raw test tensor' }),
    )
    expect(
      await main([
        '--import-pact',
        join(dir, 'in.f64'),
        '--model',
        'imported-z',
        '--steps',
        '7',
        '--forced-first',
        '2',
        '--max-jump',
        '4',
        '--licence',
        'MIT',
        '--out',
        join(dir, 'out'),
      ]),
    ).toBe(0)
    const z = parseSchedule(
      JSON.parse(await readFile(join(dir, 'out', 'imported-z', '7.json'), 'utf8')),
    )
    expect(z.plans.map((p) => p.keySteps)).toEqual(want.map((p) => p.keySteps))
    expect(z.calibration.origin).toEqual({ source: 'raw test tensor', licence: 'MIT' })
  })

  it('--export cache-dit prints the static mask of one plan', async () => {
    const out: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true))
    expect(
      await main([
        '--export',
        'cache-dit',
        '--model',
        'flux.1-dev',
        '--steps',
        '50',
        '--budget',
        '13',
      ]),
    ).toBe(0)
    const cfg = JSON.parse(out.join(''))
    expect(cfg).toMatchObject({
      num_inference_steps: 50,
      steps_computation_policy: 'static',
      taylorseer_order: 2,
      budget: 13,
    })
    expect(cfg.steps_computation_mask.flatMap((v: number, i: number) => (v ? [i] : []))).toEqual(
      cfg.key_steps,
    )
    expect(
      await main([
        '--export',
        'cache-dit',
        '--model',
        'flux.1-dev',
        '--steps',
        '50',
        '--budget',
        '3',
      ]),
    ).toBe(2)
    expect(await main(['--export', 'cache-dit', '--model', 'flux.1-dev', '--steps', '50'])).toBe(2)
    expect(
      await main(['--export', 'onnx', '--model', 'flux.1-dev', '--steps', '50', '--budget', '13']),
    ).toBe(2)
  })

  it('exits 2 naming the argument for bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['--steps', '10'], /--model is required/],
      [['--model', 'm'], /--steps is required/],
      [['--model', 'm', '--steps', 'ten'], /--steps must be an integer/],
      [['--model', '../etc', '--steps', '10'], /--model must be/],
      [
        ['--model', 'm', '--steps', '10', '--metric', 'l3'],
        /--metric must be one of l1, rel-l1, mse/,
      ],
      [['--model', 'm', '--steps', '10', '--cost', '4d', '--order', '1'], /--cost 4d/],
      [['--model', 'm', '--steps', '10', '--frobnicate'], /frobnicate/],
      [
        ['--model', 'm', '--steps', '10', '--refine', '--refine-error', 'psnr'],
        /--refine-error must be one of mse, log-mse, final-image-mse, final-image-log-mse, got 'psnr'/,
      ],
    ]
    const write = vi.mocked(process.stderr.write)
    for (const [argv, message] of cases) {
      write.mockClear()
      expect(await main(argv)).toBe(2)
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(message)
    }
  })
})

describe('files on disk', () => {
  it('an interrupted write leaves the old file intact and no temp file behind', async () => {
    const dir = await tmp()
    const path = join(dir, 'index.json')
    await writeFileAtomic(path, 'old\n')
    // a payload the writer cannot serialise fails mid-write, like a crash would
    await expect(writeFileAtomic(path, { length: 3 } as unknown as string)).rejects.toThrow()
    expect(await readFile(path, 'utf8')).toBe('old\n')
    expect(await readdir(dir)).toEqual(['index.json'])
  })

  it('the index lists exactly the schedule files present', async () => {
    const dir = await tmp()
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    await main([...toy, '--steps', '6', '--steps', '9', '--out', dir])
    vi.restoreAllMocks()
    await rm(join(dir, 'toy-single', '6.json'))
    await writeFile(join(dir, 'toy-single', 'notes.txt'), 'not a schedule')
    const index = parseScheduleIndex(await rebuildIndex(dir))
    expect(index.models).toHaveLength(1)
    expect(index.models[0].schedules.map((s) => s.file)).toEqual(['toy-single/9.json'])
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).toEqual(index)
  })
})
