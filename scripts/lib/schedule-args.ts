/** Command-line arguments of scripts/recompute-schedules.ts, validated with named errors. */
import { parseArgs } from 'node:util'
import { ERROR_METRICS, type ErrorMetric } from '../../src/core/pact.ts'
import type { PlanOptions } from '../../src/core/planner.ts'
import {
  MAX_STEPS,
  MODEL_ID_PATTERN,
  REFINE_ERRORS,
  type RefineError,
} from '../../src/core/schedule.ts'
import { BACKENDS, type Backend } from '../../src/runtime/ort.ts'
import { FORECAST_SPACES, type ForecastSpace } from '../../src/core/forecast-spaces.ts'
import { forecastSpaces, polishSpaces, SpaceArgError } from './space-args.ts'
import type { Recipe } from './recipe.ts'

export const USAGE = `usage:
  npm run schedules -- --model ID [--steps N ...] [options]
  npm run schedules -- --import-pact FILE.npy|FILE.f64 --model NAME --steps N --licence L [options]
  npm run schedules -- --export cache-dit --model ID --steps N --budget K

Defaults come from the model's recorded recipe (<out>/<ID>/recipe.json) when it has one, so
'--model ID' alone reproduces the shipped files byte for byte; flags override it. Without a
recipe (or with --no-recipe) the defaults are the paper's settings below.

recipe:
  --no-recipe        ignore the recorded recipe: the paper's defaults plus the flags given
  --replan           plan again from the committed tensors (no calibration); planner flags may change

calibration (models/<ID> must hold a manifest and its graphs):
  --samples M        calibration trajectories (default 8)
  --seed S           first calibration seed; seeds S..S+M-1, classes k mod C (default 90000)
  --guidance G       classifier-free guidance (default: the model's)
  --order R          Taylor order of the forecaster, 0..3 (default 1)
  --cost 3d|4d       3d: C[p][i][j] (exact for order <= 1); 4d: exact order-2 cost (default 3d)
  --metric M         ${ERROR_METRICS.join(' | ')} (default l1)
  --no-arrival       do not count the arrival step in a segment's cost
  --arrival          count it (the default without a recipe)
  --backend B        ${Object.keys(BACKENDS).join(' | ')} (default wasm)
  --models-dir DIR   where models live (default models)
planning:
  --forced-first F   steps 0..F-1 always compute (default 3)
  --forced-last L    steps N-L..N-1 always compute (default 0)
  --max-jump J       largest gap between keys (default: none)
import (a tensor calibrated elsewhere; what is not known is recorded as null, never guessed):
  --import-pact F    .npy, or raw little-endian float64 .f64 with a .json beside it (shape, source)
  --licence L        the tensor's licence (required with --import-pact), e.g. Apache-2.0
  --source TEXT      where it comes from (default: the .json's "source")
  --source-url URL   optional link to it
  --notes TEXT       what is known of how it was made
export (prints JSON, writes nothing):
  --export cache-dit the plan as cache-dit's static steps_computation_mask (see docs/cache-dit.md)
  --budget K         the plan to export (key steps)
per-segment orders and closed-loop refinement (schema dpcache-schedule/v2):
  --orders LIST      let the DP pick each segment's order from these, e.g. 0,1,2 (default: --order only)
  --forecast-spaces LIST  what a skipped step forecasts, velocities averaged (schema v3):
                     ${FORECAST_SPACES.join(', ')}, e.g. feature,noise (default: feature,
                     the trunk's last-block feature through the head; see forecast-spaces.ts)
  --refine           hill-climb each --refine-budgets plan on the final-image error of the
                     calibration seeds, then ship it only if it also wins on the selection seeds;
                     the result is recorded in the recipe and replayed by later runs
  --refine-budgets L budgets to refine (default 4,5,6,8,10,13,17,25 scaled to N/50, deduplicated)
  --refine-evals E   cached runs per budget and start, the start's included (default 20); with
                     several --orders both the per-order and the order-1-only DP plans are starts,
                     and the best of the starts and their climbs on the selection seeds ships
  --refine-error E   what a candidate is judged by on the calibration and selection seeds:
                     mse (mean final-image MSE, default) or log-mse (mean of its log, i.e.
                     mean per-image PSNR: one hard seed cannot outvote the rest); the recorded
                     names final-image-mse and final-image-log-mse work too
  --refine-random-evals R  more runs per budget for climbs from seeded random key sets, whose
                     results compete in the same selection (default 0)
  --refine-random-keys-only  random climbs move keys only, every segment order 1 (as BudCache)
  --refine-polish-evals P  runs per budget for a climb over orders and keys from the selected
                     plan; its end ships if it beats that plan on the selection seeds (default 0)
  --refine-polish-spaces L  the polish also chooses each segment's forecast spaces from these
                     '+'-joined sets, the first being --forecast-spaces, e.g.
                     feature+noise,feature,noise (schema v4; default: the spaces stay)
  --refine-stops L   each climb's state after these many of its runs is a selection candidate
                     too, e.g. 10,20,40,80,160 (early stopping; default: only its end)
  --select-seed S    first selection seed; as many as calibration samples (default 80000)
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
  /** Imported tensors: where from, licence, what is known. */
  origin?: { source?: string; licence?: string; url?: string; notes?: string }
  export?: { format: 'cache-dit'; budget: number }
  /** The recorded recipe the defaults came from (undefined: none, or --no-recipe). */
  recipe?: Recipe
  replan: boolean
  /** per-segment orders to choose from (undefined: every segment uses `order`) */
  orders?: number[]
  /** what a skipped step forecasts (undefined: the feature only, a v2 file) */
  spaces?: ForecastSpace[]
  refine?: {
    budgets?: number[]
    evals: number
    randomEvals: number
    randomKeysOnly: boolean
    /** runs after which a climb's state is a selection candidate too */
    stops: number[]
    /** runs for the polish climb from the selected plan (0: none) */
    polishEvals: number
    /** per-segment space sets the polish chooses from (schedule v4; the first is `spaces`) */
    polishSpaces?: string[]
    error: RefineError
    selectSeed: number
  }
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
  if (!/^-?[0-9]+$/.test(v) || n < lo || n > hi)
    throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}], got '${v}'`)
  return n
}

/** A climb's run count: 0 (none) or at least 2, since a climb needs two runs to move at all. */
function climbRuns(name: string, v: string | undefined): number {
  const n = int(name, v, 0, 100000) ?? 0
  if (n === 1)
    throw new UsageError(`--${name} must be 0 or at least 2 (a climb needs two runs), got '1'`)
  return n
}

/** The refinement errors' short names (mse, log-mse) beside their recorded names. */
const REFINE_ERROR_NAMES: Record<string, RefineError> = {
  mse: 'final-image-mse',
  'log-mse': 'final-image-log-mse',
  ...Object.fromEntries(REFINE_ERRORS.map((e) => [e, e])),
}

export const REFINE_ERROR_NAME_LIST = Object.keys(REFINE_ERROR_NAMES)

/** A refinement error by its short or its recorded name; undefined if it is neither. */
export function refineErrorNamed(v: string): RefineError | undefined {
  return Object.hasOwn(REFINE_ERROR_NAMES, v) ? REFINE_ERROR_NAMES[v] : undefined
}

function refineError(v: string | undefined): RefineError {
  if (v === undefined) return 'final-image-mse'
  const e = refineErrorNamed(v)
  if (!e)
    throw new UsageError(
      `--refine-error must be one of ${REFINE_ERROR_NAME_LIST.join(', ')}, got '${v}'`,
    )
  return e
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  model: { type: 'string' },
  steps: { type: 'string', multiple: true },
  'no-recipe': { type: 'boolean' },
  replan: { type: 'boolean' },
  'import-pact': { type: 'string' },
  licence: { type: 'string' },
  source: { type: 'string' },
  'source-url': { type: 'string' },
  notes: { type: 'string' },
  export: { type: 'string' },
  budget: { type: 'string' },
  arrival: { type: 'boolean' },
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
  orders: { type: 'string' },
  'forecast-spaces': { type: 'string' },
  refine: { type: 'boolean' },
  'refine-budgets': { type: 'string' },
  'refine-evals': { type: 'string' },
  'refine-random-evals': { type: 'string' },
  'refine-error': { type: 'string' },
  'refine-stops': { type: 'string' },
  'refine-polish-evals': { type: 'string' },
  'refine-random-keys-only': { type: 'boolean' },
  'refine-polish-spaces': { type: 'string' },
  'select-seed': { type: 'string' },
} as const

/** A space flag's parser, its errors as usage errors. */
function spaceArg<A extends unknown[], R>(parse: (...a: A) => R, ...a: A): R {
  try {
    return parse(...a)
  } catch (e) {
    if (e instanceof SpaceArgError) throw new UsageError(e.message)
    throw e
  }
}

/** The bench's budgets of 50 steps, scaled to N steps. */
export function defaultRefineBudgets(steps: number): number[] {
  return [
    ...new Set([4, 5, 6, 8, 10, 13, 17, 25].map((k) => Math.max(2, Math.round((k * steps) / 50)))),
  ].filter((k) => k < steps)
}

function raw(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], strict: true, options: OPTIONS }).values
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
}

/** What the command is about, read before its recipe: model, output folder, --no-recipe. */
export function scheduleTarget(argv: readonly string[]): {
  model?: string
  out: string
  useRecipe: boolean
} {
  const v = raw(argv)
  const model = v.model !== undefined && MODEL_ID_PATTERN.test(v.model) ? v.model : undefined // parseScheduleArgs names a bad one
  return { model, out: v.out ?? 'schedules', useRecipe: !v['no-recipe'] && !v.help }
}

/**
 * Parses and validates the command line. `recipe` (the model's recorded one) supplies every
 * default a flag does not; without it the defaults are the paper's settings.
 */
export function parseScheduleArgs(argv: readonly string[], recipe?: Recipe): ScheduleArgs {
  const v = raw(argv)
  const help = v.help ?? false
  if (!help && !v.model) throw new UsageError('--model is required')
  if (!help && !v.steps?.length && !recipe)
    throw new UsageError(
      '--steps is required (it may be given several times) when the model has no recorded recipe',
    )
  if (v.model !== undefined && !MODEL_ID_PATTERN.test(v.model)) {
    throw new UsageError(
      `--model must be lower-case letters, digits, '.', '_' or '-', got '${v.model}'`,
    )
  }
  if (v.arrival && v['no-arrival'])
    throw new UsageError('--arrival and --no-arrival contradict each other')
  const steps = [
    ...new Set(
      v.steps ? v.steps.map((s) => int('steps', s, 2, MAX_STEPS)!) : (recipe?.steps ?? []),
    ),
  ].sort((a, b) => a - b)
  const fromRecipe = recipe?.tensor.source === 'imported' && !v['import-pact']
  if (v.replan && (!recipe || v['import-pact']))
    throw new UsageError(
      '--replan replays a recorded recipe on its committed tensors: the model needs a recipe.json, and no --import-pact or --no-recipe',
    )
  if (v['import-pact'] && steps.length !== 1)
    throw new UsageError('--import-pact takes exactly one --steps')
  if (v['import-pact'] && !v.licence)
    throw new UsageError(
      "--import-pact needs --licence: the tensor's licence is recorded with the schedules",
    )
  let exp: ScheduleArgs['export']
  if (v.export !== undefined) {
    if (v.export !== 'cache-dit')
      throw new UsageError(`--export must be cache-dit, got '${v.export}'`)
    if (steps.length !== 1 || !v.steps) throw new UsageError('--export takes exactly one --steps')
    const budget = int('budget', v.budget, 1, steps[0])
    if (budget === undefined)
      throw new UsageError('--export needs --budget K (the number of key steps)')
    exp = { format: 'cache-dit', budget }
  } else if (v.budget !== undefined) throw new UsageError('--budget is for --export')
  const d = recipe
  const cost = v.cost ?? d?.forecaster.cost ?? '3d'
  if (cost !== '3d' && cost !== '4d') throw new UsageError(`--cost must be 3d or 4d, got '${cost}'`)
  const order =
    int('order', v.order, 0, 3) ??
    (v.cost === undefined ? d?.forecaster.order : undefined) ??
    (cost === '4d' ? 2 : 1)
  if (cost === '4d' && order !== 2)
    throw new UsageError('--cost 4d is the exact order-2 cost: use it with --order 2')
  if (cost === '4d' && (v['import-pact'] || fromRecipe))
    throw new UsageError('--cost 4d needs calibration, it cannot be imported')
  const metric = v.metric ?? d?.forecaster.metric ?? 'l1'
  if (!ERROR_METRICS.includes(metric as ErrorMetric))
    throw new UsageError(`--metric must be one of ${ERROR_METRICS.join(', ')}, got '${metric}'`)
  const calibrated = d?.tensor.source === 'calibrated' ? d.tensor : undefined
  const backend = v.backend ?? calibrated?.backend ?? 'wasm'
  if (!(backend in BACKENDS))
    throw new UsageError(
      `--backend must be one of ${Object.keys(BACKENDS).join(', ')}, got '${backend}'`,
    )
  const guidance = v.guidance === undefined ? calibrated?.guidance : Number(v.guidance)
  if (guidance !== undefined && !(guidance >= 1 && guidance <= 20))
    throw new UsageError(`--guidance must be a number in [1, 20], got '${v.guidance}'`)
  const maxN = Math.max(...steps, 2)
  const imported = d?.tensor.source === 'imported' ? d.tensor : undefined
  const list = (name: string, value: string | undefined, lo: number, hi: number) =>
    value === undefined
      ? undefined
      : [...new Set(value.split(',').map((x) => int(name, x.trim(), lo, hi)!))].sort(
          (a, b) => a - b,
        )
  const orders =
    list('orders', v.orders, 0, 3) ??
    (v.order === undefined && v.cost === undefined ? d?.forecaster.orders : undefined)
  if (orders && cost === '4d') throw new UsageError('--orders plans on 3-D tensors: drop --cost 4d')
  if ((v.refine || v.orders) && (v['import-pact'] || fromRecipe))
    throw new UsageError('--orders and --refine need calibration, they cannot be imported')
  // an explicit --forecast-spaces feature overrides a recipe's spaces
  const spaces =
    v['forecast-spaces'] === undefined
      ? d?.forecaster.spaces
      : spaceArg(forecastSpaces, v['forecast-spaces'])
  const polish = spaceArg(polishSpaces, v['refine-polish-spaces'], spaces)
  if (polish && !(v.refine && v['refine-polish-evals']))
    throw new UsageError('--refine-polish-spaces needs --refine and --refine-polish-evals')
  if (v['forecast-spaces'] !== undefined && (v['import-pact'] || fromRecipe))
    throw new UsageError(
      '--forecast-spaces needs calibration: an imported tensor was planned for its own forecaster',
    )
  return {
    help,
    model: v.model ?? '',
    steps,
    importPact: v['import-pact'],
    origin: v['import-pact']
      ? { source: v.source, licence: v.licence, url: v['source-url'], notes: v.notes }
      : imported && { ...imported.origin, notes: imported.notes },
    export: exp,
    recipe,
    replan: v.replan ?? false,
    samples: int('samples', v.samples, 1, 1024) ?? calibrated?.samples ?? 8,
    seed: int('seed', v.seed, 0, 2 ** 31) ?? calibrated?.seed ?? 90000,
    guidance,
    order,
    cost,
    metric: metric as ErrorMetric,
    includeArrival: v.arrival
      ? true
      : v['no-arrival']
        ? false
        : (d?.forecaster.includeArrival ?? true),
    backend: backend as Backend,
    modelsDir: v['models-dir'] ?? 'models',
    out: v.out ?? 'schedules',
    planner: {
      forcedFirst: int('forced-first', v['forced-first'], 0, maxN) ?? d?.planner.forcedFirst ?? 3,
      forcedLast: int('forced-last', v['forced-last'], 0, maxN) ?? d?.planner.forcedLast ?? 0,
      maxJump: int('max-jump', v['max-jump'], 1, maxN) ?? d?.planner.maxJump ?? undefined,
    },
    ...(orders ? { orders } : {}),
    ...(spaces ? { spaces } : {}),
    ...(v.refine
      ? {
          refine: {
            budgets: list('refine-budgets', v['refine-budgets'], 1, maxN),
            evals: int('refine-evals', v['refine-evals'], 1, 100000) ?? 20,
            randomEvals: climbRuns('refine-random-evals', v['refine-random-evals']),
            randomKeysOnly: v['refine-random-keys-only'] ?? false,
            stops: list('refine-stops', v['refine-stops'], 1, 100000) ?? [],
            polishEvals: climbRuns('refine-polish-evals', v['refine-polish-evals']),
            ...(polish ? { polishSpaces: polish } : {}),
            error: refineError(v['refine-error']),
            selectSeed: int('select-seed', v['select-seed'], 0, 2 ** 31) ?? 80000,
          },
        }
      : {}),
  }
}
