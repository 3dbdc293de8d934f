/**
 * bench:quality: the shipped DPCache schedules against eleven other caching methods at equal
 * NFE, each tuned on tuning seeds, scored per image on held-out seeds (mean PSNR +- SE, paired
 * difference to the shipped schedule +- SE, share of seeds won, pooled PSNR), plus ablations.
 *
 *   npm run bench:quality -- [--model tiny-dit-mnist] [--seeds 0..29] [--classes 0..9]
 *     [--settings '50:4,5,6,8,10,13,17,25;20:4,8;28:6,10'] [--tune-seeds 8]
 *     [--budcache-evals E (default: the shipped refinement's runs)] [--backend wasm|cpu]
 *     [--budcache-errors mse,log-mse (or their recorded names; default: MSE plus the shipped refinement's)]
 *     [--budcache-spaces feature|shipped|both (forecasting the feature, as specified, and/or in a
 *       v3 schedule's spaces, judged by the last of the errors; default both)]
 *     [--only shipped|dpcache|budcache (the shipped row and these methods only, dpcache: its
 *       ablations; shipped: nothing else; merge with scripts/quality-report.ts)] [--lemica-seeds 2] [--lemica-cap C] [--json FILE] [--out FILE.md] [--cache DIR] [--warm-only]
 *
 * Seeds: held-out as given (must avoid 80000.. and 90000..), tuning 80000.. (baseline tuning and
 * the schedules' ship/no-ship selection), calibration 90000.. (cost tensors, refinement,
 * LeMiCa edges, BudCache search). Model calls that only depend on seeds are cached in --cache.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseNpy } from '../src/core/npy.ts'
import { buildPact, type ErrorMetric } from '../src/core/pact.ts'
import { planAllOrders } from '../src/core/planner-orders.ts'
import { planAll } from '../src/core/planner.ts'
import { loadClassifier, type Classifier } from '../src/runtime/classifier.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'
import { writeFileAtomic } from './lib/atomic.ts'
import { calibrateFull, calibrationCases } from './lib/calibrate.ts'
import { loadHeldOut } from './lib/heldout.ts'
import { cached } from './lib/quality-cache.ts'
import { lemicaWeights } from './lib/quality-lemica.ts'
import { qualityArgs } from './lib/quality-args.ts'
import { runRecipe, staticRecipe, tuneScore, type Case } from './lib/quality-methods.ts'
import { renderReport, type Row } from './lib/quality-report.ts'
import { refinementRuns } from './lib/refine-plans.ts'
import { featureMoments, scoreImages, type FeatureMoments } from './lib/quality-score.ts'
import { benchPlans, checkDpStarts, dpcacheAblations } from './lib/quality-ablations.ts'
import { entriesFor } from './lib/quality-setting.ts'
import { paired, summarise } from './lib/quality-stats.ts'

const args = qualityArgs(process.argv.slice(2))
const { values, only: onlyMethods, budcacheSpaces, budcacheErrors, seeds, settings, chunk } = args
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`)
const read = async (p: string) => new Uint8Array(await readFile(p))
// native cpu (onnxruntime-node) matches wasm to ~1e-5 and runs this bench several times faster
const model = await loadModel(join(values['models-dir'], values.model), read, {
  backend: args.backend,
  threads: 1,
})
const m = model.manifest
const guidance = args.guidance ?? m.defaultGuidance
const shift = m.sigma.shift
const classList = args.classes.filter((c) => c < m.classes)
const cases: Case[] = seeds.map((seed, k) => ({ seed, class: classList[k % classList.length] }))
const caseClasses = cases.map((c) => c.class)
const tuneSet = calibrationCases(args.tuneSeeds, 80000, m.classes)
const tuneCases: Case[] = tuneSet.seeds.map((seed, k) => ({ seed, class: tuneSet.classes[k] }))
const clfName = values.classifier ?? (values.model.includes('mnist') ? 'mnist-classifier' : 'none')
const clf: Classifier | null =
  clfName === 'none' ? null : await loadClassifier(join(values['models-dir'], clfName), read)
const real: FeatureMoments | null = clf
  ? (await featureMoments(clf, (await loadHeldOut(values['models-dir'])).images, 1000)).moments
  : null
const key = (what: string, extra: object) => ({
  what,
  model: model.fingerprint,
  // wasm and native cpu differ in the last bits: a cache is per backend
  backend: args.backend,
  guidance,
  shift,
  ...extra,
})
const fullImages = (steps: number, cs: readonly Case[]) =>
  cached(values.cache, key('full-images', { steps, cs }), async () => ({
    images: [
      (
        await runRecipe(
          model.denoiser,
          staticRecipe('1'.repeat(steps), 1),
          cs,
          guidance,
          chunk,
          shift,
        )
      ).images,
    ],
  }))
const store = fileScheduleStore(values.schedules)
const rows: Row[] = []
/** Methods whose plan is a search picked on the tuning seeds (their tuning PSNR is reported). */
const SEARCHED: readonly string[] = ['dpcache', 'budcache']
const started = performance.now()

for (const { steps, budgets } of settings) {
  const shipped = await store.get(values.model, steps)
  if (!shipped)
    throw new Error(
      `no shipped ${steps}-step schedule for ${values.model}: run npm run schedules first`,
    )
  // 1. calibration trajectories (the schedule's own seeds), references, cost tensors
  const { seeds: calSeeds, classes: calClasses } = shipped.calibration
  if (!calSeeds || !calClasses)
    throw new Error(
      `the ${steps}-step schedule of ${values.model} is imported: bench:quality needs one calibrated on this model`,
    )
  const calSet = { seeds: calSeeds, classes: calClasses }
  const cal = await cached(values.cache, key('calibration', { steps, ...calSet }), async () => {
    const c = await calibrateFull(model.denoiser, { steps, ...calSet, guidance, shift })
    return { features: c.features as Float32Array[][], latents: c.latents, images: [c.images] }
  })
  const calibration = {
    features: cal.features,
    latents: cal.latents,
    images: cal.images[0],
    ...calSet,
  }
  const tuneRefs = (await fullImages(steps, tuneCases)).images[0]
  const refs = (await fullImages(steps, cases)).images[0]
  const f = shipped.forecaster
  const costOpts = { metric: f.metric as ErrorMetric, includeArrival: f.includeArrival }
  const orders = f.orders ?? [f.order]
  // the committed tensors when the schedule lists them (checked by hash), else built from the trajectories
  const files = shipped.calibration.pactFiles
  const byOrder = files
    ? await Promise.all(
        files.map(async (f) => {
          const bytes = await read(join(values.schedules, f.file))
          if (createHash('sha256').update(bytes).digest('hex') !== f.sha256)
            throw new Error(`${f.file} does not match its sha256 in the schedule`)
          return { order: f.order, pact: { steps, data: Float64Array.from(parseNpy(bytes).data) } }
        }),
      )
    : orders.map((order) => ({
        order,
        pact: buildPact(calibration.features, { ...costOpts, order }),
      }))
  const pact1 =
    byOrder.find((b) => b.order === 1)?.pact ??
    buildPact(calibration.features, { ...costOpts, order: 1 })
  const forcedFirst = shipped.planner.forcedFirst
  // 2. the DP part of the shipped schedule must be what this calibration plans
  const dp = planAllOrders({ byOrder }, { forcedFirst, maxJump: shipped.planner.maxJump })
  const dp1 = planAll(pact1, { forcedFirst, maxJump: shipped.planner.maxJump })
  checkDpStarts({
    steps,
    forecaster: f,
    shipped: shipped.plans,
    refined: shipped.refinement?.plans,
    dp,
    dp1,
  })
  log(
    `${steps} steps: shipped DP part reproduced (${orders.length > 1 ? `orders ${orders.join(',')}` : `order ${f.order}`}, ${f.metric}, forcedFirst ${forcedFirst}); refined budgets: ${
      shipped.refinement?.plans
        .filter((r) => r.shipped === 'refined')
        .map((r) => r.budget)
        .join(',') || 'none'
    }`,
  )
  const ablations = dpcacheAblations({ forecaster: f, shipped: shipped.plans, dp, dp1 })
  // 3. LeMiCa's edge weights on the first calibration seeds, edges capped just above N / min K;
  //    a partial rerun never runs LeMiCa, so it skips these model runs
  const lemSeeds = args.lemicaSeeds
  const cap = args.lemicaCap ?? Math.ceil(steps / Math.min(...budgets)) + 1
  async function lemicaEdges() {
    const lt = performance.now()
    const lem = await cached(
      values.cache,
      key('lemica', { steps, cap, seeds: calSet.seeds.slice(0, lemSeeds) }),
      async () => {
        const sub = {
          features: calibration.features.slice(0, lemSeeds),
          latents: calibration.latents.slice(0, lemSeeds),
          images: calibration.images.slice(0, lemSeeds),
        }
        const w = await lemicaWeights(model.denoiser, sub, {
          steps,
          classes: calSet.classes,
          guidance,
          shift,
          cap,
          onProgress: (d, t) => d % 10 === 0 && log(`lemica edges ${d}/${t}`),
        })
        return { weights: [[Float32Array.from(w)]] }
      },
    )
    log(
      `lemica edge weights (${lemSeeds} seeds, cap ${cap}) ready in ${((performance.now() - lt) / 1000).toFixed(0)} s`,
    )
    return { weights: Float64Array.from(lem.weights[0][0]) }
  }
  const lemica = onlyMethods ? undefined : await lemicaEdges()
  if (values['warm-only']) continue // fills the cache (calibration, references, LeMiCa) only
  const setting = {
    denoiser: model.denoiser,
    steps,
    guidance,
    shift,
    tune: { denoiser: model.denoiser, cases: tuneCases, references: tuneRefs, guidance, shift },
    cal: calibration,
    shipped: benchPlans(shipped.plans, f.order),
    spaces: f.spaces,
    pact: pact1,
    forcedFirst,
    ablations,
    lemica,
    only: onlyMethods,
    // the same number of cached runs as the shipped refinement had (every start's climb, and
    // the climbs from random key sets, the polish)
    budcacheEvals: args.budcacheEvals ?? refinementRuns(shipped.refinement ?? { maxEvals: 20 }),
    budcacheErrors: budcacheSpaces === 'shipped' ? [] : budcacheErrors(shipped.refinement?.error),
    budcacheWithShippedSpaces:
      budcacheSpaces === 'feature'
        ? undefined
        : (budcacheErrors(shipped.refinement?.error).at(-1) ?? 'final-image-mse'),
    hidden: model.denoiser.featureDims[model.denoiser.featureDims.length - 1],
    log,
  }
  // 4. every method at every budget
  for (const budget of budgets) {
    const bt = performance.now()
    const entries = await entriesFor(setting, budget)
    let reference: number[] | null = null
    for (const e of entries) {
      // the two searched plans (ours, BudCache's) were picked on the tuning seeds: their score
      // there beside the held-out one shows how much of a search's lead is fitted to its seeds
      const tune = SEARCHED.includes(e.method)
        ? (await tuneScore(setting.tune, e.recipe)).psnr
        : undefined
      const out = await runRecipe(model.denoiser, e.recipe, cases, guidance, chunk, shift)
      const score = await scoreImages(
        out.images,
        refs,
        caseClasses,
        m.image.height,
        clf && real ? { clf, real } : undefined,
      )
      const per = score.psnrs
      if (e.method === 'dpcache' && !e.variant) reference = per
      const row: Row = {
        steps,
        budget,
        method: e.method,
        variant: e.variant,
        setting: e.setting,
        nfe: out.nfe,
        tuneNfe: e.tuneNfe,
        tunePsnr: tune,
        msPerImage: out.msPerImage,
        ...summarise(per),
        ssim: score.ssim,
        accuracy: score.accuracy,
        frechet: score.frechet,
        paired: reference && reference !== per ? paired(reference, per) : null,
        psnrs: per.map((p) => Number(p.toFixed(3))),
        ...(e.recipe.keySteps ? { keySteps: [...e.recipe.keySteps] } : {}),
      }
      rows.push(row)
      log(
        `${steps}/${budget} ${(e.method + (e.variant ? ` [${e.variant}]` : '')).padEnd(48)} NFE ${out.nfe.toFixed(2)}  PSNR ${row.mean.toFixed(2)} +- ${row.se.toFixed(2)}${row.paired ? `  ours-this ${row.paired.diff.toFixed(2)} +- ${row.paired.se.toFixed(2)}, wins ${(100 * row.paired.wins).toFixed(0)}%` : ''}${tune !== undefined ? `  (tuning ${tune.toFixed(2)})` : ''}${e.setting ? `  ${e.setting}` : ''}`,
      )
    }
    log(`${steps}/${budget} done in ${((performance.now() - bt) / 1000).toFixed(0)} s`)
    const setup = {
      model: values.model,
      guidance,
      shift,
      heldOut: values.seeds,
      classes: values.classes,
      tuneSeeds: tuneSet.seeds,
      calibrationSeeds: calSet.seeds,
      budcacheEvals: setting.budcacheEvals,
      lemicaSeeds: lemSeeds,
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      minutes: (performance.now() - started) / 60000,
    }
    if (values.json)
      await writeFileAtomic(values.json, JSON.stringify({ setup, results: rows }, null, 1) + '\n')
    if (values.out) await writeFileAtomic(values.out, renderReport(setup, rows))
  }
}
log(`bench done in ${((performance.now() - started) / 60000).toFixed(1)} min`)
if (!values.out) console.log(renderReport({ model: values.model, heldOut: values.seeds }, rows))
