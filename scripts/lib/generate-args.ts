/**
 * Command line of scripts/generate.ts. Everything that does not need the model is checked
 * here, before it loads, and the ranges are the API's: the request goes through the same
 * schema as `POST /v1/generate` (src/api/schemas.ts), so the two cannot disagree.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_LIMITS, generateRequestSchema } from '../../src/api/schemas.ts'
import { BACKENDS, type Backend } from '../../src/runtime/ort.ts'

export const GENERATE_USAGE = `usage: npm run generate -- --class C [options]

Samples images with a DPCache schedule and writes one PNG (a grid for --batch > 1).

  --class C          class label (required; 0..classes-1 of the model)
  --seed S           noise seed; image k uses S + k (default 0)
  --steps N          sampling steps (default: the model's)
  --budget K         key steps, i.e. trunk evaluations (default N: full compute); K < N
                     needs a shipped schedule for N steps (schedules/<model>/<N>.json)
  --speedup X        instead of --budget: the lowest-cost plan with N / K >= X
  --guidance G       classifier-free guidance (default: the model's)
  --batch B          images, seeds S..S+B-1 (default 1)
  --model ID         default tiny-dit-mnist
  --backend B        ${Object.keys(BACKENDS).join(' | ')} (default wasm)
  --threads T        wasm threads, 1..16 (default 1)
  --models-dir DIR   default models
  --schedules DIR    default schedules
  --out FILE.png     default <model>-c<C>-s<S>-k<K>.png
  -h, --help         this text

Ranges are those of POST /v1/generate.
`

export class GenerateUsageError extends Error {
  override name = 'GenerateUsageError'
}

export interface GenerateArgs {
  help: boolean
  model: string
  class: number
  seed: number
  steps?: number
  budget?: number
  speedup?: number
  guidance?: number
  batch: number
  backend: Backend
  threads: number
  modelsDir: string
  schedules: string
  out?: string
}

const NUMERIC = ['class', 'seed', 'steps', 'budget', 'speedup', 'guidance', 'batch'] as const

export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let v
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(NUMERIC.map((k) => [k, { type: 'string' }] as const)),
        model: { type: 'string' },
        backend: { type: 'string' },
        threads: { type: 'string' },
        'models-dir': { type: 'string' },
        schedules: { type: 'string' },
        out: { type: 'string' },
      },
    }).values as Record<string, string | boolean | undefined>
  } catch (e) {
    throw new GenerateUsageError((e as Error).message)
  }
  const base = {
    model: (v.model as string) ?? 'tiny-dit-mnist',
    backend: 'wasm' as Backend,
    threads: 1,
    modelsDir: 'models',
    schedules: 'schedules',
    seed: 0,
    batch: 1,
    class: -1,
  }
  if (v.help) return { help: true, ...base }
  const nums: Record<string, number> = {}
  for (const k of NUMERIC) {
    const s = v[k] as string | undefined
    if (s === undefined) continue
    // plain decimal only: '1e3', '0x10' and ' 7 ' are typos here, as they are in the API's query strings
    if (!/^-?[0-9]+(\.[0-9]+)?$/.test(s))
      throw new GenerateUsageError(`--${k} must be a number, got '${s}'`)
    nums[k] = Number(s)
  }
  if (nums.class === undefined) throw new GenerateUsageError('--class is required')
  const r = generateRequestSchema(DEFAULT_LIMITS).safeParse({
    model: base.model,
    format: 'png',
    ...nums,
  })
  if (!r.success) {
    const i = r.error.issues[0]
    const field = String(i.path[0] ?? 'model')
    throw new GenerateUsageError(
      `--${field}: ${i.message}${field in nums ? `, got ${nums[field]}` : field === 'model' ? `, got '${base.model}'` : ''}`,
    )
  }
  if (r.data.budget !== undefined && r.data.steps !== undefined && r.data.budget > r.data.steps) {
    throw new GenerateUsageError(
      `--budget must be at most --steps (${r.data.steps}), got ${r.data.budget}`,
    )
  }
  const backend = (v.backend as string | undefined) ?? 'wasm'
  if (!(backend in BACKENDS))
    throw new GenerateUsageError(
      `--backend must be one of ${Object.keys(BACKENDS).join(', ')}, got '${backend}'`,
    )
  const threads = v.threads === undefined ? 1 : Number(v.threads)
  if (!/^[0-9]+$/.test(String(v.threads ?? '1')) || threads < 1 || threads > 16)
    throw new GenerateUsageError(`--threads must be an integer in [1, 16], got '${v.threads}'`)
  const out = v.out as string | undefined
  if (out !== undefined && !out.endsWith('.png'))
    throw new GenerateUsageError(`--out must name a .png file, got '${out}'`)
  return {
    help: false,
    model: base.model,
    class: r.data.class,
    seed: r.data.seed ?? 0,
    steps: r.data.steps,
    budget: r.data.budget,
    speedup: r.data.speedup,
    guidance: r.data.guidance,
    batch: r.data.batch,
    backend: backend as Backend,
    threads,
    modelsDir: (v['models-dir'] as string | undefined) ?? 'models',
    schedules: (v.schedules as string | undefined) ?? 'schedules',
    out,
  }
}
