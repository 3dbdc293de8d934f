/**
 * Schedule recomputation: calibrate (or import) -> PACT -> exact DP -> schedules/ (+ tensor,
 * figures, recipe). With a recorded recipe, `--model ID` alone reproduces the shipped files.
 *
 *   npm run schedules -- --model tiny-dit-mnist
 *   npm run schedules -- --import-pact pact-flux.f64 --model flux.1-dev --steps 50 --licence Apache-2.0 --order 2 --max-jump 15
 *   npm run schedules -- --export cache-dit --model flux.1-dev --steps 50 --budget 13
 *
 * Writes, per model and step count, into --out (default schedules/):
 *   <model>/<steps>.json            the schedule (schema dpcache-schedule/v1)
 *   <model>/<steps>.pact.npy|.json  the cost tensor and its provenance (+ .pact4.npy for --cost 4d)
 *   <model>/<steps>.{errors,costs,keys}.svg
 *   <model>/recipe.json             the options all of the model's files were made with
 * and rebuilds index.json from the files present. Usage errors exit with code 2.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import cliProgress from 'cli-progress'
import { toCacheDitConfig } from '../src/core/cache-dit.ts'
import { buildPact, buildPact4, type Pact } from '../src/core/pact.ts'
import { parseSchedule } from '../src/core/schedule.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { calibrateFull, calibrationCases } from './lib/calibrate.ts'
import { refinementOptions } from './lib/refine-plans.ts'
import { refineSteps } from './lib/refine-steps.ts'
import { runPlanning, writePlanned } from './lib/plan-and-write.ts'
import { readTensor } from './lib/import-pact.ts'
import { replanFiles } from './lib/replan.ts'
import {
  forecasterOf,
  hillClimb,
  readRecipe,
  RECIPE_SCHEMA,
  sameMaking,
  writeRecipe,
  type Recipe,
} from './lib/recipe.ts'
import {
  parseScheduleArgs,
  scheduleTarget,
  UsageError,
  USAGE,
  type ScheduleArgs,
} from './lib/schedule-args.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

function bar(label: string) {
  return new cliProgress.SingleBar(
    {
      format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n\n${USAGE}`)
      return 2
    }
    throw e
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const target = scheduleTarget(argv)
  const recorded = target.model ? await readRecipe(target.out, target.model) : undefined
  const args = parseScheduleArgs(argv, target.useRecipe ? recorded : undefined)
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (args.export) return exportCacheDit(args, args.export.budget)
  if (args.replan && recorded) {
    const recipe = recipeOf(args, recorded.tensor)
    await checkRecipe(args, recorded, recipe)
    for (const n of args.steps) await writePlanned(args.out, await replanFiles(args.out, recipe, n))
    await writeRecipe(args.out, mergeSteps(recorded, recipe))
    return 0
  }
  const imported = args.importPact !== undefined || args.recipe?.tensor.source === 'imported'
  if (imported) {
    const origin = args.origin ?? {}
    const tensors: Pact[] = []
    for (const n of args.steps)
      tensors.push(
        await readTensor(args.importPact ?? join(args.out, args.model, `${n}.pact.npy`), n, origin),
      )
    if (!origin.source || !origin.licence)
      throw new UsageError('an imported tensor needs --source and --licence')
    const recipe = recipeOf(args, {
      source: 'imported',
      origin: {
        source: origin.source,
        licence: origin.licence,
        ...(origin.url ? { url: origin.url } : {}),
      },
      ...(origin.notes ? { notes: origin.notes } : {}),
    })
    await checkRecipe(args, recorded, recipe)
    for (const pact of tensors) {
      await runPlanning(args.out, {
        ...planningOptions(args, recipe, pact.steps),
        pact,
        modelSha256: null,
        shift: null,
        calibration: {
          source: 'imported',
          samples: null,
          seeds: null,
          classes: null,
          guidance: null,
          origin: recipe.tensor.source === 'imported' ? recipe.tensor.origin : undefined,
        },
      })
    }
    await writeRecipe(args.out, mergeSteps(recorded, recipe))
    return 0
  }
  const model = await loadModel(join(args.modelsDir, args.model), read, {
    backend: args.backend,
    threads: 1,
  })
  const m = model.manifest
  const guidance = args.guidance ?? m.defaultGuidance
  const recipe = recipeOf(args, {
    source: 'calibrated',
    samples: args.samples,
    seed: args.seed,
    guidance,
    backend: args.backend,
  })
  const cases = calibrationCases(args.samples, args.seed, m.classes)
  const select = calibrationCases(args.samples, args.refine?.selectSeed ?? 80000, m.classes)
  if (args.refine) {
    // several orders, order 1 among them: the order-1-only DP plan is a second start (see the
    // refinePlans call)
    const options = refinementOptions(
      { ...args.refine, calibration: cases, selection: select },
      (args.orders?.length ?? 0) > 1 && args.orders!.includes(1),
    )
    const old = args.recipe?.refinement
    // refining some step counts again keeps the recorded results of the others
    recipe.refinement = {
      method: 'hill-climb',
      options,
      plans: old && JSON.stringify(old.options) === JSON.stringify(options) ? { ...old.plans } : {},
    }
  }
  await checkRecipe(args, recorded, recipe)
  process.stderr.write(
    `calibrating ${m.id}: ${args.samples} samples, seeds ${cases.seeds.join(',')}, classes ${cases.classes.join(',')}, guidance ${guidance}\n`,
  )
  for (const steps of args.steps) {
    const b1 = bar(`${steps} steps: calibrate`)
    b1.start(steps, 0)
    const cal = await calibrateFull(model.denoiser, {
      steps,
      ...cases,
      guidance,
      shift: m.sigma.shift,
      onStep: (i) => b1.update(i + 1),
    })
    const trajs = cal.features
    b1.stop()
    const b2 = bar(`${steps} steps: cost tensor`)
    b2.start(1, 0)
    const progress = (done: number, total: number) => {
      b2.setTotal(total)
      b2.update(done)
    }
    const opts = {
      order: args.order,
      metric: args.metric,
      includeArrival: args.includeArrival,
      onProgress: progress,
    }
    const pact = buildPact(trajs, opts)
    const pact4 = args.cost === '4d' ? buildPact4(trajs, opts) : undefined
    const byOrder = recipe.forecaster.orders?.map((order) => ({
      order,
      pact: order === args.order ? pact : buildPact(trajs, { ...opts, order }),
    }))
    b2.stop()
    if (args.refine && recipe.refinement) {
      recipe.refinement.plans[String(steps)] = await refineSteps({
        denoiser: model.denoiser,
        steps,
        guidance,
        shift: m.sigma.shift,
        refine: args.refine,
        calibration: { ...cases, references: cal.images },
        selection: select,
        byOrder: byOrder ?? [{ order: args.order, pact }],
        orders: recipe.forecaster.orders ?? [args.order],
        spaces: recipe.forecaster.spaces,
        planner: {
          forcedFirst: recipe.planner.forcedFirst,
          forcedLast: recipe.planner.forcedLast,
          maxJump: recipe.planner.maxJump ?? steps,
        },
        log: (line) => process.stderr.write(`${line}\n`),
      })
    }
    await runPlanning(args.out, {
      ...planningOptions(args, recipe, steps),
      byOrder,
      pact,
      pact4,
      modelSha256: model.fingerprint,
      shift: m.sigma.shift,
      calibration: {
        source: 'calibrated',
        samples: args.samples,
        seeds: cases.seeds,
        classes: cases.classes,
        guidance,
      },
    })
  }
  await writeRecipe(args.out, mergeSteps(recorded, recipe))
  return 0
}

function recipeOf(args: ScheduleArgs, tensor: Recipe['tensor']): Recipe {
  const recipe: Recipe = {
    schema: RECIPE_SCHEMA,
    model: args.model,
    steps: args.steps,
    tensor,
    forecaster: {
      order: args.order,
      cost: args.cost,
      metric: args.metric,
      includeArrival: args.includeArrival,
      ...(args.orders ? { orders: args.orders } : {}),
      ...(args.spaces ? { spaces: args.spaces } : {}),
    },
    planner: {
      forcedFirst: args.planner.forcedFirst,
      forcedLast: args.planner.forcedLast,
      maxJump: args.planner.maxJump ?? null,
    },
    refinement: null,
  }
  // a recorded refinement stays valid while everything it was run on stays the same
  const old = args.recipe?.refinement
  if (old && args.recipe && sameMaking(args.recipe, { ...recipe, refinement: old }))
    recipe.refinement = old
  return recipe
}

/** New options must not leave other shipped step counts of the model on an old recipe. */
async function checkRecipe(
  args: ScheduleArgs,
  recorded: Recipe | undefined,
  recipe: Recipe,
): Promise<void> {
  if (!recorded || sameMaking(recorded, recipe)) return
  const left = recorded.steps.filter((s) => !recipe.steps.includes(s))
  if (left.length > 0) {
    throw new UsageError(
      `these options differ from ${args.model}'s recorded recipe (${join(args.out, args.model, 'recipe.json')}), which its ${left.join(', ')}-step files were made with: ` +
        `replan those too (${[...recorded.steps, ...recipe.steps]
          .filter((s, k, a) => a.indexOf(s) === k)
          .map((s) => `--steps ${s}`)
          .join(' ')}), or write elsewhere with --out`,
    )
  }
}

function mergeSteps(recorded: Recipe | undefined, recipe: Recipe): Recipe {
  if (!recorded || !sameMaking(recorded, recipe)) return recipe
  return {
    ...recipe,
    steps: [...new Set([...recorded.steps, ...recipe.steps])].sort((a, b) => a - b),
  }
}

function planningOptions(args: ScheduleArgs, recipe: Recipe, steps: number) {
  return {
    model: args.model,
    forecaster: forecasterOf(recipe),
    planner: {
      forcedFirst: recipe.planner.forcedFirst,
      forcedLast: recipe.planner.forcedLast,
      maxJump: recipe.planner.maxJump ?? undefined,
    },
    refined: recipe.refinement?.plans[String(steps)],
    refinement: hillClimb(recipe),
  }
}

/** Prints one plan as cache-dit's static mask (docs/cache-dit.md). */
async function exportCacheDit(args: ScheduleArgs, budget: number): Promise<number> {
  const file = join(args.out, args.model, `${args.steps[0]}.json`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new UsageError(`no schedule for ${args.model} at ${args.steps[0]} steps (${file})`)
  }
  const schedule = parseSchedule(JSON.parse(text))
  const plan = schedule.plans.find((p) => p.budget === budget)
  if (!plan)
    throw new UsageError(
      `--budget ${budget}: ${file} has plans for ${schedule.plans.map((p) => p.budget).join(', ')}`,
    )
  process.stdout.write(JSON.stringify(toCacheDitConfig(schedule, plan), null, 2) + '\n')
  return 0
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${(e as Error).message}\n`)
      process.exit(1)
    },
  )
}
