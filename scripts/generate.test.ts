import { execFile } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../src/api/schemas.ts'
import { GENERATE_USAGE, parseGenerateArgs } from './lib/generate-args.ts'

const root = join(import.meta.dirname, '..')
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', ...args], {
    cwd: root,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  )

describe('generate CLI arguments (checked before the model loads)', () => {
  it('--help gives the usage', () => {
    expect(parseGenerateArgs(['--help']).help).toBe(true)
    expect(parseGenerateArgs(['-h']).help).toBe(true)
    expect(GENERATE_USAGE).toMatch(/--class C[\s\S]*--budget K[\s\S]*--out FILE\.png/)
  })

  it('takes the ranges of POST /v1/generate', () => {
    expect(
      parseGenerateArgs(['--class', '7', '--steps', '50', '--budget', '10', '--guidance', '0']),
    ).toMatchObject({ class: 7, steps: 50, budget: 10, guidance: 0, seed: 0, batch: 1 })
    expect(
      parseGenerateArgs(['--class', '0', '--batch', String(DEFAULT_LIMITS.maxBatch)]).batch,
    ).toBe(DEFAULT_LIMITS.maxBatch)
    const bad: [string[], RegExp][] = [
      [['--steps', '10'], /--class is required/],
      [['--class', 'seven'], /--class must be a number, got 'seven'/],
      [['--class', '1', '--seed', '1e3'], /--seed must be a number/],
      [['--class', '1', '--steps', '1'], /--steps: .*>=2, got 1/],
      [
        ['--class', '1', '--steps', String(DEFAULT_LIMITS.maxSteps + 1)],
        new RegExp(`--steps: .*<=${DEFAULT_LIMITS.maxSteps}`),
      ],
      [['--class', '1', '--guidance', '21'], /--guidance: .*<=20, got 21/],
      [['--class', '1', '--batch', String(DEFAULT_LIMITS.maxBatch + 1)], /--batch/],
      [['--class', '1.5'], /--class: .*int/i],
      [
        ['--class', '1', '--steps', '20', '--budget', '21'],
        /--budget must be at most --steps \(20\), got 21/,
      ],
      [['--class', '1', '--model', '../x'], /--model: not a model id, got '..\/x'/],
      [
        ['--class', '1', '--backend', 'tpu'],
        /--backend must be one of wasm, webgpu, cpu, cuda, got 'tpu'/,
      ],
      [['--class', '1', '--out', 'x.jpg'], /--out must name a .png file/],
      [['--class', '1', '--frobnicate'], /frobnicate/],
      [
        ['--class', '1', '--budget', '5', '--speedup', '2'],
        /--speedup: send budget or speedup, not both/,
      ],
    ]
    for (const [argv, message] of bad)
      expect(() => parseGenerateArgs(argv), argv.join(' ')).toThrow(message)
  })
})

describe('generate CLI', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await run(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(GENERATE_USAGE)
  })

  it('a step count without a schedule is one clean line, exit 2', async () => {
    const r = await run(['--class', '3', '--steps', '30'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'error: tiny-dit-mnist has no 30-step schedule (--steps: one of 20, 28, 50)\n',
    )
  })

  it('a class past the model is one line naming its range', async () => {
    const r = await run(['--class', '10'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'error: --class must be an integer in [0, 9] for tiny-dit-mnist, got 10\n',
    )
  })

  it('writes the image it reports', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'dpcache-gen-')), 'd.png')
    const r = await run(['--class', '2', '--steps', '20', '--budget', '7', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/NFE 7 .*\nkey steps: 0,/)
    expect((await readFile(out)).subarray(1, 4).toString()).toBe('PNG')
  })
})
