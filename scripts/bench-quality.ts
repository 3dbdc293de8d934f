/**
 * bench:quality: DPCache against six baselines at equal NFE, on held-out seeds, plus ablations.
 *
 *   npm run bench:quality -- [--seeds 0..99] [--classes 0..9] [--budgets 6,8,10,13,17,25] [--json]
 *     [--no-ablations] [--timing-samples 8] [--chunk 25] [--figures docs]
 *
 * Case k uses seed seeds[k] and class classes[k mod |classes|]. Calibration uses seeds from
 * 90000 (the schedules' default), which the evaluation seeds must not overlap.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildPact, buildPact4, type Trajectory } from '../src/core/pact.ts'
import { loadClassifier } from '../src/runtime/classifier.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { calibrate, calibrationCases } from './lib/calibrate.ts'
import { loadHeldOut } from './lib/heldout.ts'
import { METHODS, recipeFor, runRecipe, teacacheRecipe, tuneTeaCache, type PlanSource, type Recipe } from './lib/quality-methods.ts'
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
const read = async (p: string) => new Uint8Array(await (await import('node:fs/promises')).readFile(p))
if (seeds.some((s) => s >= 90000 && s < 90016)) throw new Error('--seeds overlap the calibration seeds 90000..90015')

const model = await loadModel(join(values['models-dir']!, values.model!), read)
const clf = await loadClassifier(join(values['models-dir']!, 'mnist-classifier'), read)
const guidance = values.guidance ? Number(values.guidance) : model.manifest.defaultGuidance
const side = model.manifest.image.height
const cases = seeds.map((seed, k) => ({ seed, class: classList[k % classList.length] }))
const classes = cases.map((c) => c.class)
const heldOut = await loadHeldOut(values['models-dir']!)
const real = (await featureMoments(clf, heldOut.images, heldOut.count)).moments

// 1. calibration trajectories (8 samples; guidance as evaluated, and guidance 1 for the ablation)
const cal = async (g: number) => {
  const c = calibrationCases(8, 90000, model.manifest.classes)
  return calibrate(model.denoiser, { steps, ...c, guidance: g, shift: model.manifest.sigma.shift })
}
const t0 = performance.now()
const trajs: Trajectory[] = await cal(guidance)
log(`calibrated 8 trajectories in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
const ff = 3
const main: PlanSource = { label: 'order 1, 3-D', pact: buildPact(trajs, { order: 1 }), order: 1, forcedFirst: ff }
const ablations: PlanSource[] = []
if (!values['no-ablations']) {
  const add = (label: string, order: number, build: () => PlanSource['pact'], pact4?: () => PlanSource['pact4']) => {
    const t = performance.now()
    ablations.push({ label, pact: build(), pact4: pact4?.(), order, forcedFirst: ff })
    log(`cost tensor '${label}' in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  add('order 2, 3-D (paper, p-1)', 2, () => buildPact(trajs, { order: 2 }))
  add('order 2, exact 4-D', 2, () => main.pact, () => buildPact4(trajs))
  add('order 1, no arrival term', 1, () => buildPact(trajs, { order: 1, includeArrival: false }))
  add('order 1, 1 calibration sample', 1, () => buildPact(trajs.slice(0, 1), { order: 1 }))
  const g1 = guidance === 1 ? trajs : await cal(1)
  add('order 1, calibrated at guidance 1', 1, () => buildPact(g1, { order: 1 }))
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
      await measure(method, budget, recipeFor(method, budget, budget === steps ? steps : steps, main))
    }
  }
  for (const src of ablations) await measure('dpcache-exact', budget, recipeFor('dpcache-exact', budget, steps, src), src.label)
}

// 4. report
const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '-')
if (values.json) {
  console.log(JSON.stringify({ setup: { model: values.model, steps, guidance, seeds: values.seeds, classes: values.classes, samples: cases.length, calibration: 'seeds 90000..90007, classes k mod 10, order 1, 3-D cost, forcedFirst 3' }, results: rows }, null, 2))
} else {
  const lines = [
    `Quality: ${values.model}, ${steps} Euler steps, guidance ${guidance}, ${cases.length} held-out cases (seeds ${values.seeds}, classes ${values.classes}); Frechet distance vs the 1,000 held-out real digits. ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, wasm 1 thread.`,
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
  await writeFile(join(values.figures, 'quality-frechet.svg'), linePlot({ title: 'Frechet distance to held-out digits', xLabel: 'NFE (trunk evaluations per image)', yLabel: 'Frechet distance (lower is better)', series: fd, logY: true }))
  log(`figures written to ${values.figures}/quality-psnr.svg and quality-frechet.svg`)
}
