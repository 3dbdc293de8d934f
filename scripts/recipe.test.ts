/**
 * The schedules script's recipes: each model's options recorded beside its schedules, taken as
 * the defaults, and replayed (calibrated again, or replanned from the committed tensors) to the
 * same bytes. Split from recompute-schedules.test.ts, which covers planning and the CLI.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from './recompute-schedules.ts'
import { parseNpy, writeNpy } from '../src/core/npy.ts'
import { pactIndex } from '../src/core/pact.ts'
import { pathCost } from '../src/core/planner.ts'
import { parseSchedule } from '../src/core/schedule.ts'
import { listing, sha, tmp, toy } from './lib/schedules-test-kit.ts'

describe('npm run schedules: recipes', () => {
  beforeEach(() => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  })
  afterEach(() => vi.restoreAllMocks())

  it('records the recipe and takes it as its defaults: --model alone reproduces the files byte for byte', async () => {
    const dir = await tmp()
    const made = [
      '--models-dir',
      'src/runtime/testdata',
      '--samples',
      '3',
      '--seed',
      '7',
      '--metric',
      'mse',
      '--no-arrival',
      '--forced-first',
      '2',
      '--max-jump',
      '5',
      '--out',
      dir,
    ]
    expect(await main(['--model', 'toy-single', '--steps', '8', '--steps', '10', ...made])).toBe(0)
    const recipe = JSON.parse(await readFile(join(dir, 'toy-single', 'recipe.json'), 'utf8'))
    expect(recipe).toMatchObject({
      steps: [8, 10],
      tensor: { source: 'calibrated', samples: 3, seed: 7, backend: 'wasm' },
      forecaster: { order: 1, cost: '3d', metric: 'mse', includeArrival: false },
      planner: { forcedFirst: 2, forcedLast: 0, maxJump: 5 },
      refinement: null,
    })
    const before = await listing(dir)
    expect(
      await main(['--model', 'toy-single', '--models-dir', 'src/runtime/testdata', '--out', dir]),
    ).toBe(0)
    expect(await listing(dir)).toEqual(before)
    // the deterministic part replays without calibration, to the same bytes
    expect(await main(['--model', 'toy-single', '--replan', '--out', dir])).toBe(0)
    expect(await listing(dir)).toEqual(before)
    // one step count of a recipe replanned alone keeps the others in it
    expect(
      await main([
        '--model',
        'toy-single',
        '--models-dir',
        'src/runtime/testdata',
        '--steps',
        '8',
        '--out',
        dir,
      ]),
    ).toBe(0)
    expect(await listing(dir)).toEqual(before)
    // other options for one step count would leave the other on an old recipe: refused, nothing written
    const write = vi.mocked(process.stderr.write)
    write.mockClear()
    expect(
      await main([
        '--model',
        'toy-single',
        '--models-dir',
        'src/runtime/testdata',
        '--steps',
        '8',
        '--forced-first',
        '1',
        '--out',
        dir,
      ]),
    ).toBe(2)
    expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(
      /recorded recipe.*10-step files.*--steps 8 --steps 10/,
    )
    expect(await listing(dir)).toEqual(before)
    // ... but accepted for every step count, and recorded
    expect(
      await main(['--model', 'toy-single', '--replan', '--forced-first', '1', '--out', dir]),
    ).toBe(0)
    expect(
      JSON.parse(await readFile(join(dir, 'toy-single', 'recipe.json'), 'utf8')).planner
        .forcedFirst,
    ).toBe(1)
    // --no-recipe: the paper's defaults again (3 forced first steps)
    const fresh = await tmp()
    await main([
      '--model',
      'toy-single',
      '--models-dir',
      'src/runtime/testdata',
      '--samples',
      '3',
      '--steps',
      '8',
      '--out',
      fresh,
    ])
    expect(
      await main([
        '--model',
        'toy-single',
        '--models-dir',
        'src/runtime/testdata',
        '--samples',
        '3',
        '--steps',
        '8',
        '--no-recipe',
        '--forced-first',
        '3',
        '--out',
        fresh,
      ]),
    ).toBe(0)
  })

  it('a recorded refinement result replaces its budgets in the replay; the DP keeps the others', async () => {
    const dir = await tmp()
    expect(await main([...toy, '--steps', '8', '--out', dir])).toBe(0)
    const dp = parseSchedule(JSON.parse(await readFile(join(dir, 'toy-single', '8.json'), 'utf8')))
    const path = join(dir, 'toy-single', 'recipe.json')
    const recipe = JSON.parse(await readFile(path, 'utf8'))
    recipe.refinement = {
      method: 'closed-loop (test)',
      options: { rounds: 1 },
      plans: { '8': { '3': [0, 2, 5] } },
    }
    await writeFile(path, JSON.stringify(recipe))
    expect(await main(['--model', 'toy-single', '--replan', '--out', dir])).toBe(0)
    const s = parseSchedule(JSON.parse(await readFile(join(dir, 'toy-single', '8.json'), 'utf8')))
    const pact = parseNpy(new Uint8Array(await readFile(join(dir, 'toy-single', '8.pact.npy'))))
    const k3 = s.plans.find((p) => p.budget === 3)!
    expect(k3).toMatchObject({
      keySteps: [0, 2, 5],
      mask: '10100100',
      cost: Number(
        pathCost({ steps: 8, data: Float64Array.from(pact.data) }, [0, 2, 5]).toPrecision(6),
      ),
    })
    expect(s.plans.filter((p) => p.budget !== 3)).toEqual(dp.plans.filter((p) => p.budget !== 3))
    // the refinement stays recorded, and a replay of it is stable
    expect(JSON.parse(await readFile(path, 'utf8')).refinement.plans).toEqual({
      '8': { '3': [0, 2, 5] },
    })
    const before = await listing(dir)
    expect(await main(['--model', 'toy-single', '--replan', '--out', dir])).toBe(0)
    expect(await listing(dir)).toEqual(before)
  })

  it('an imported recipe replays from its committed tensor', async () => {
    const dir = await tmp()
    const n = 6
    const data = new Float64Array(n * (n + 1) * (n + 1)).fill(Infinity)
    for (let i = 0; i < n; i++)
      for (let p = 0; p < Math.max(i, 1); p++)
        for (let j = i + 1; j <= n; j++) data[pactIndex(n, p, i, j)] = (j - i) ** 2 + p / 10
    await writeFile(join(dir, 'in.npy'), writeNpy({ shape: [n, n + 1, n + 1], data }))
    const out = join(dir, 'out')
    expect(
      await main([
        '--import-pact',
        join(dir, 'in.npy'),
        '--model',
        'imp',
        '--steps',
        '6',
        '--licence',
        'MIT',
        '--source',
        'test',
        '--order',
        '2',
        '--out',
        out,
      ]),
    ).toBe(0)
    const before = await listing(out)
    expect(await main(['--model', 'imp', '--out', out])).toBe(0)
    expect(await listing(out)).toEqual(before)
  })

  it('--cost 4d writes and records the 4-D tensor it planned on', async () => {
    const dir = await tmp()
    expect(await main([...toy, '--steps', '6', '--cost', '4d', '--out', dir])).toBe(0)
    const s = parseSchedule(JSON.parse(await readFile(join(dir, 'toy-single', '6.json'), 'utf8')))
    expect(s.forecaster).toMatchObject({ cost: '4d', order: 2 })
    expect(s.calibration.pactFile).toBe('toy-single/6.pact4.npy')
    const npy4 = await readFile(join(dir, 'toy-single', '6.pact4.npy'))
    expect(parseNpy(new Uint8Array(npy4)).shape).toEqual([6, 6, 6, 7])
    expect(sha(npy4)).toBe(s.calibration.pactSha256)
    const prov = JSON.parse(await readFile(join(dir, 'toy-single', '6.pact.json'), 'utf8'))
    expect(prov.tensors.map((t: { tensor: string }) => t.tensor)).toEqual([
      'toy-single/6.pact.npy',
      'toy-single/6.pact4.npy',
    ])
    // the replay reads the 4-D tensor back and gives the same files
    const before = await listing(dir)
    expect(await main(['--model', 'toy-single', '--replan', '--out', dir])).toBe(0)
    expect(await listing(dir)).toEqual(before)
  })
})
