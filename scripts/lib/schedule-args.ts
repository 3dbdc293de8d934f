/** Command-line arguments of scripts/recompute-schedules.ts, validated with named errors. */
import { parseArgs } from 'node:util'
import { ERROR_METRICS, type ErrorMetric } from '../../src/core/pact.ts'
import type { PlanOptions } from '../../src/core/planner.ts'
import { BACKENDS, type Backend } from '../../src/runtime/ort.ts'

export const USAGE = `usage:
  npm run schedules -- --model ID --steps N [--steps N ...] [options]
  npm run schedules -- --import-pact FILE.npy --model NAME --steps N [options]

calibration (models/<ID> must hold a manifest and its graphs):
  --samples M        calibration trajectories (default 8)
  --seed S           first calibration seed; seeds S..S+M-1, classes k mod C (default 90000)
  --guidance G       classifier-free guidance (default: the model's)
  --order R          Taylor order of the forecaster, 0..3 (default 1)
  --cost 3d|4d       3d: C[p][i][j] (exact for order <= 1); 4d: exact order-2 cost (default 3d)
  --metric M         ${ERROR_METRICS.join(' | ')} (default l1)
  --no-arrival       do not count the arrival step in a segment's cost
  --backend B        ${Object.keys(BACKENDS).join(' | ')} (default wasm)
  --models-dir DIR   where models live (default models)
planning:
  --forced-first F   steps 0..F-1 always compute (default 3)
  --forced-last L    steps N-L..N-1 always compute (default 0)
  --max-jump J       largest gap between keys (default: none)
output:
  --out DIR          default schedules
`

export class UsageError extends Error {
  override name = 'UsageError'
}

export interface ScheduleArgs {
  help: boolean
  model: string
  steps: number[]
  importPact?: string
  samples: number
  seed: number
  guidance?: number
  order: number
  cost: '3d' | '4d'
  metric: ErrorMetric
  includeArrival: boolean
  backend: Backend
  modelsDir: string
  out: string
  planner: Required<Omit<PlanOptions, 'method' | 'maxJump'>> & { maxJump?: number }
}

function int(name: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^-?[0-9]+$/.test(v) || n < lo || n > hi) throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}], got '${v}'`)
  return n
}

export function parseScheduleArgs(argv: readonly string[]): ScheduleArgs {
  let v
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        model: { type: 'string' },
        steps: { type: 'string', multiple: true },
        'import-pact': { type: 'string' },
        samples: { type: 'string' },
        seed: { type: 'string' },
        guidance: { type: 'string' },
        order: { type: 'string' },
        cost: { type: 'string' },
        metric: { type: 'string' },
        'no-arrival': { type: 'boolean' },
        backend: { type: 'string' },
        'models-dir': { type: 'string' },
        'forced-first': { type: 'string' },
        'forced-last': { type: 'string' },
        'max-jump': { type: 'string' },
        out: { type: 'string' },
      },
    }).values
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const help = v.help ?? false
  if (!help && !v.model) throw new UsageError('--model is required')
  if (!help && !v.steps?.length) throw new UsageError('--steps is required (it may be given several times)')
  if (v.model !== undefined && !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(v.model)) {
    throw new UsageError(`--model must be lower-case letters, digits, '.', '_' or '-', got '${v.model}'`)
  }
  const steps = [...new Set((v.steps ?? []).map((s) => int('steps', s, 2, 1000)!))].sort((a, b) => a - b)
  if (v['import-pact'] && steps.length !== 1) throw new UsageError('--import-pact takes exactly one --steps')
  const cost = v.cost ?? '3d'
  if (cost !== '3d' && cost !== '4d') throw new UsageError(`--cost must be 3d or 4d, got '${cost}'`)
  const order = int('order', v.order, 0, 3) ?? (cost === '4d' ? 2 : 1)
  if (cost === '4d' && order !== 2) throw new UsageError('--cost 4d is the exact order-2 cost: use it with --order 2')
  if (cost === '4d' && v['import-pact']) throw new UsageError('--cost 4d needs calibration, it cannot be imported')
  const metric = v.metric ?? 'l1'
  if (!ERROR_METRICS.includes(metric as ErrorMetric)) throw new UsageError(`--metric must be one of ${ERROR_METRICS.join(', ')}, got '${metric}'`)
  const backend = v.backend ?? 'wasm'
  if (!(backend in BACKENDS)) throw new UsageError(`--backend must be one of ${Object.keys(BACKENDS).join(', ')}, got '${backend}'`)
  const guidance = v.guidance === undefined ? undefined : Number(v.guidance)
  if (guidance !== undefined && !(guidance >= 1 && guidance <= 20)) throw new UsageError(`--guidance must be a number in [1, 20], got '${v.guidance}'`)
  const maxN = Math.max(...steps, 2)
  return {
    help,
    model: v.model ?? '',
    steps,
    importPact: v['import-pact'],
    samples: int('samples', v.samples, 1, 1024) ?? 8,
    seed: int('seed', v.seed, 0, 2 ** 31) ?? 90000,
    guidance,
    order,
    cost,
    metric: metric as ErrorMetric,
    includeArrival: !v['no-arrival'],
    backend: backend as Backend,
    modelsDir: v['models-dir'] ?? 'models',
    out: v.out ?? 'schedules',
    planner: {
      forcedFirst: int('forced-first', v['forced-first'], 0, maxN) ?? 3,
      forcedLast: int('forced-last', v['forced-last'], 0, maxN) ?? 0,
      maxJump: int('max-jump', v['max-jump'], 1, maxN),
    },
  }
}
