/**
 * bench:quality: DPCache against six baselines at equal NFE, on held-out seeds, plus ablations.
 *
 *   npm run bench:quality -- [--seeds 0..99] [--classes 0..9] [--budgets 6,8,10,13,17,25] [--json]
 *     [--no-ablations] [--timing-samples 8] [--chunk 25] [--figures docs]
 *
 * Case k uses seed seeds[k] and class classes[k mod |classes|]. Calibration uses seeds from
 * 90000 (the schedules' default), which the evaluation seeds must not overlap.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildPact, buildPact4, type ErrorMetric, type Trajectory } from '../src/core/pact.ts'
import { loadClassifier } from '../src/runtime/classifier.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'
import { calibrate, calibrationCases } from './lib/calibrate.ts'
import { loadHeldOut } from './lib/heldout.ts'
import { METHODS, planMasks, recipeFor, runRecipe, teacacheRecipe, tuneTeaCache, type PlanSource, type Recipe } from './lib/quality-methods.ts'
import { featureMoments, score, type Scores } from './lib/quality-score.ts'
import { linePlot, type Series } from './lib/svg.ts'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0..99' },
    classes: { type: 'string', default: '0..9' },
    budgets: { type: 'string', default: '6,8,10,13,17,25' },
    steps: { type: 'string', default: '50' },
    guidance: { type: 'string' },
    json: { type: 'boolean', default: false },
    'no-ablations': { type: 'boolean', default: false },
    'timing-samples': { type: 'string', default: '8' },
    chunk: { type: 'string', default: '25' },
    figures: { type: 'string' },
    model: { type: 'string', default: 'tiny-dit-mnist' },
    'models-dir': { type: 'string', default: 'models' },
    schedules: { type: 'string', default: 'schedules' },
  },
})
const range = (s: string) => {
  const m = /^(\d+)\.\.(\d+)$/.exec(s)
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, k) => Number(m[1]) + k)
  return s.split(',').map(Number)
}
const seeds = range(values.seeds!)
const classList = range(values.classes!)
const budgets = values.budgets!.split(',').map(Number)
const steps = Number(values.steps)
const chunk = Number(values.chunk)
const log = (s: string) => process.stderr.write(`${s}\n`)
const read = async (p: string) => new Uint8Array(await readFile(p))
if (seeds.some((s) => s >= 90000 && s < 90016)) throw new Error('--seeds overlap the calibration seeds 90000..90015')

const model = await loadModel(join(values['models-dir']!, values.model!), read)
const clf = await loadClassifier(join(values['models-dir']!, 'mnist-classifier'), read)
const guidance = values.guidance ? Number(values.guidance) : model.manifest.defaultGuidance
const side = model.manifest.image.height
const cases = seeds.map((seed, k) => ({ seed, class: classList[k % classList.length] }))
const classes = cases.map((c) => c.class)
const heldOut = await loadHeldOut(values['models-dir']!)
const real = (await featureMoments(clf, heldOut.images, heldOut.count)).moments

// 1. calibration trajectories (guidance as evaluated, and guidance 1 for one ablation), and the
//    cost tensors: `main` uses the shipped schedule's settings, each ablation changes one thing
const shipped = await fileScheduleStore(values.schedules!).get(values.model!, steps)
if (!shipped) throw new Error(`no shipped ${steps}-step schedule for ${values.model}: run npm run schedules first`)
const settings = {
  order: shipped.forecaster.order,
  metric: shipped.forecaster.metric as ErrorMetric,
  includeArrival: shipped.forecaster.includeArrival,
  forcedFirst: shipped.planner.forcedFirst,
  samples: shipped.calibration.samples ?? 8,
}
const cal = async (g: number) => {
  const c = calibrationCases(settings.samples, 90000, model.manifest.classes)
  return calibrate(model.denoiser, { steps, ...c, guidance: g, shift: model.manifest.sigma.shift })
}
const t0 = performance.now()
const trajs: Trajectory[] = await cal(guidance)
log(`calibrated ${trajs.length} trajectories in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
const costOpts = { order: settings.order, metric: settings.metric, includeArrival: settings.includeArrival }
const describe = `order ${settings.order}, ${settings.metric}, arrival ${settings.includeArrival ? 'in' : 'out'}, forcedFirst ${settings.forcedFirst}, ${settings.samples} samples`
const main: PlanSource = { label: describe, pact: buildPact(trajs, costOpts), order: settings.order, forcedFirst: settings.forcedFirst }
// the benchmark must evaluate exactly what ships
const mainPlans = planMasks(main, 'exact')
const drift = shipped.plans.filter((p) => mainPlans.get(p.budget) !== p.mask).map((p) => p.budget)
if (drift.length) throw new Error(`recomputed plans differ from the shipped schedule at K = ${drift.join(', ')}`)
log(`main: ${describe}; plans identical to schedules/${values.model}/${steps}.json`)
const ablations: PlanSource[] = []
if (!values['no-ablations']) {
  const add = (label: string, order: number, build: () => PlanSource['pact'], extra: () => Partial<PlanSource> = () => ({})) => {
    const t = performance.now()
    ablations.push({ label, pact: build(), order, forcedFirst: settings.forcedFirst, ...extra() })
    log(`cost tensor '${label}' in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  add('order 2, 3-D cost (paper, p-1)', 2, () => buildPact(trajs, { ...costOpts, order: 2 }))
  add('order 2, exact 4-D cost', 2, () => main.pact, () => ({ pact4: buildPact4(trajs, { metric: settings.metric, includeArrival: settings.includeArrival }) }))
  add(`arrival step ${settings.includeArrival ? 'excluded' : 'included (paper)'}`, settings.order, () => buildPact(trajs, { ...costOpts, includeArrival: !settings.includeArrival }))
  add(`metric ${settings.metric === 'l1' ? 'mse' : 'l1 (paper)'}`, settings.order, () => buildPact(trajs, { ...costOpts, metric: settings.metric === 'l1' ? 'mse' : 'l1' }))
  add('1 calibration sample', settings.order, () => buildPact(trajs.slice(0, 1), costOpts))
  const g1 = guidance === 1 ? trajs : await cal(1)
  add('calibrated at guidance 1', settings.order, () => buildPact(g1, costOpts))
  add('forcedFirst 3 (paper)', settings.order, () => main.pact, () => ({ forcedFirst: 3 }))
}

// 2. the full-step reference for every case
const full = await runRecipe(model.denoiser, recipeFor('euler-k', steps, steps, main), cases, guidance, chunk)
const timing = cases.slice(0, Number(values['timing-samples']))
async function msPerImage(recipe: Recipe): Promise<number> {
  const t = performance.now()
  await runRecipe(model.denoiser, recipe, timing, guidance, 1)
  return (performance.now() - t) / timing.length
}
const fullMs = await msPerImage(recipeFor('euler-k', steps, steps, main))
type Row = { method: string; variant?: string; budget: number; nfe: number; msPerImage: number; speedup: number; threshold?: number } & Scores
const rows: Row[] = [{ method: `full-${steps}`, budget: steps, nfe: steps, msPerImage: fullMs, speedup: 1, ...(await score(clf, full.images, null, classes, real, side)) }]
log(`reference: ${steps} steps, ${fullMs.toFixed(1)} ms/image, frechet ${rows[0].frechet.toFixed(2)}, accuracy ${rows[0].accuracy}`)

async function measure(method: string, budget: number, recipe: Recipe, variant?: string, extra: Partial<Row> = {}) {
  const out = await runRecipe(model.denoiser, recipe, cases, guidance, chunk)
  const ms = await msPerImage(recipe)
  const row: Row = { method, ...(variant ? { variant } : {}), budget, nfe: out.nfe, msPerImage: ms, speedup: fullMs / ms, ...extra, ...(await score(clf, out.images, full.images, classes, real, side)) }
  rows.push(row)
  log(`${(method + (variant ? ` [${variant}]` : '')).padEnd(52)} K=${String(budget).padStart(2)} NFE ${row.nfe.toFixed(2).padStart(5)}  PSNR ${row.psnr.toFixed(2)}  SSIM ${row.ssim.toFixed(3)}  acc ${row.accuracy.toFixed(3)}  FD ${row.frechet.toFixed(2)}  ${ms.toFixed(1)} ms`)
}

// 3. every method at every budget, then the ablations of DPCache exact
const tuneCases = calibrationCases(16, 80000, model.manifest.classes)
for (const budget of budgets) {
  for (const method of METHODS) {
    if (method === 'teacache') {
      const tuned = await tuneTeaCache(model.denoiser, budget, steps, tuneCases.seeds.map((seed, k) => ({ seed, class: tuneCases.classes[k] })), guidance)
      await measure(method, budget, teacacheRecipe(tuned.threshold, steps), undefined, { threshold: Number(tuned.threshold.toPrecision(4)) })
    } else {
      await measure(method, budget, recipeFor(method, budget, steps, main))
    }
  }
  for (const src of ablations) await measure('dpcache-exact', budget, recipeFor('dpcache-exact', budget, steps, src), src.label)
}

// 4. report
const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '-')
if (values.json) {
  console.log(JSON.stringify({ setup: { model: values.model, steps, guidance, seeds: values.seeds, classes: values.classes, samples: cases.length, calibration: `seeds from 90000, classes k mod 10; ${describe}` }, results: rows }, null, 2))
} else {
  const lines = [
    `Quality: ${values.model}, ${steps} Euler steps, guidance ${guidance}, ${cases.length} held-out cases (seeds ${values.seeds}, classes ${values.classes}); Frechet distance vs the 1,000 held-out real digits. DPCache exact/greedy/2-D plan on the shipped cost (${describe}); uniform-taylor uses order 2, uniform-reuse and teacache order 0 (reuse). ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, wasm 1 thread.`,
    '',
    '| K | method | variant | NFE | PSNR dB | SSIM | accuracy | Frechet | ms / image | speedup |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.budget} | ${r.method} | ${r.variant ?? (r.threshold !== undefined ? `threshold ${r.threshold}` : '')} | ${f(r.nfe, 2)} | ${f(r.psnr, 2)} | ${f(r.ssim, 4)} | ${f(r.accuracy, 3)} | ${f(r.frechet, 2)} | ${f(r.msPerImage, 1)} | ${f(r.speedup, 2)}x |`),
  ]
  console.log(lines.join('\n'))
}
if (values.figures) {
  const main = rows.filter((r) => !r.variant && r.method !== `full-${steps}`)
  const series = (key: 'psnr' | 'frechet'): Series[] =>
    METHODS.map((m) => ({ name: m, points: main.filter((r) => r.method === m).map((r) => [r.nfe, r[key]] as const) }))
  await writeFile(join(values.figures, 'quality-psnr.svg'), linePlot({ title: `PSNR vs full ${steps}-step output (${cases.length} held-out cases)`, xLabel: 'NFE (trunk evaluations per image)', yLabel: 'PSNR dB (higher is better)', series: series('psnr') }))
  const fd = series('frechet')
  fd.push({ name: `full ${steps} steps`, points: budgets.map((b) => [b, rows[0].frechet] as const) })
  await writeFile(join(values.figures, 'quality-frechet.svg'), linePlot({ title: 'Frechet distance to held-out digits', xLabel: 'NFE (trunk evaluations per image)', yLabel: 'Frechet distance (lower is better)', series: fd }))
  log(`figures written to ${values.figures}/quality-psnr.svg and quality-frechet.svg`)
}
