/**
 * The playground: pick a model, steps and budget (or a speed-up), see the plan, and sample the
 * same digit on the server (POST /v1/generate through the typed client) and in this browser
 * (the same engine code, bundled), full steps beside the chosen budget.
 */
import {
  ApiClientError,
  createClient,
  type ModelsResponse,
  type Schedule,
} from '../src/client/index.ts'
import { parseNpy } from '../src/core/npy.ts'
import { oneStepErrors } from '../src/core/pact.ts'
import { hexDigest } from '../src/core/digest.ts'
import {
  generateInBrowser,
  loadBrowserEngine,
  pickBackend,
  type BackendChoice,
  type BrowserEngine,
} from './browser-engine.ts'
import { keyAxis, linePlot } from './charts.ts'
import { fromBase64, maxPixelDiff, pngOf, pngPsnr, toBase64 } from './images.ts'

const api = createClient()
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const ui = {
  model: $<HTMLSelectElement>('model'),
  steps: $<HTMLSelectElement>('steps'),
  mode: $<HTMLSelectElement>('mode'),
  budget: $<HTMLInputElement>('budget'),
  budgetOut: $<HTMLOutputElement>('budget-out'),
  speedup: $<HTMLInputElement>('speedup'),
  cls: $<HTMLSelectElement>('class'),
  seed: $<HTMLInputElement>('seed'),
  backend: $<HTMLSelectElement>('backend'),
  status: $('status'),
}

interface Manifest {
  classes: number
  defaultGuidance: number
  image: { channels: number; height: number; width: number }
}
type Where = 'server' | 'browser'
interface Result {
  png: Uint8Array
  ms: number
  nfe: number
}

let models: ModelsResponse['models'] = []
let manifest: Manifest | undefined
let schedule: Schedule | undefined
let budget = 0
const results = new Map<string, Result>()
const engines = new Map<string, Promise<{ engine: BrowserEngine; reason: string }>>()

function status(text: string, error = false) {
  ui.status.textContent = text
  ui.status.classList.toggle('error', error)
}

/** The resting status line: empty, or why a schedule-only model cannot be sampled. */
const idle = () =>
  manifest
    ? ''
    : `${ui.model.value}: plans only (this host serves no graphs for it, so nothing to sample)`

const describe = (e: unknown) =>
  e instanceof ApiClientError
    ? `${e.status} ${e.code}: ${e.message}${e.allowed ? ` (allowed: ${JSON.stringify(e.allowed)})` : ''}`
    : (e as Error).message

const options = (sel: HTMLSelectElement, values: (string | number)[], pick?: string | number) => {
  sel.replaceChildren(...values.map((v) => new Option(String(v), String(v))))
  if (pick !== undefined && values.map(String).includes(String(pick))) sel.value = String(pick)
}

/** What the page has selected; results are kept per selection so stale ones never mix. */
const selection = () => ({
  model: ui.model.value,
  steps: Number(ui.steps.value),
  class: Number(ui.cls.value),
  seed: Number(ui.seed.value),
})
/**
 * The request every run shares (only a model with a manifest runs). The guidance follows from
 * the model, so the results' key leaves it out: a schedule-only model, which has no manifest,
 * can still look its (empty) results up.
 */
const params = () => ({ ...selection(), guidance: manifest!.defaultGuidance })
const key = (where: Where, b: number) => `${where}|${JSON.stringify(selection())}|${b}`

/** The model's manifest when this host serves its graphs; schedule-only models have none. */
async function fetchManifest(id: string): Promise<Manifest | undefined> {
  const res = await fetch(`/models/${id}/manifest.json`)
  return res.ok ? ((await res.json()) as Manifest) : undefined
}
const manifests = new Map<string, Promise<Manifest | undefined>>()

async function selectModel() {
  const m = models.find((x) => x.id === ui.model.value)!
  manifest = await manifests.get(m.id)
  options(ui.cls, manifest ? [...Array(manifest.classes).keys()] : [], ui.cls.value || 7)
  options(
    ui.steps,
    m.schedules.map((s) => s.steps),
    ui.steps.value || 50,
  )
  for (const id of ['run-server', 'run-browser']) $<HTMLButtonElement>(id).disabled = !manifest
  status(idle())
  await selectSteps()
}

async function selectSteps() {
  schedule = await api.schedule(ui.model.value, Number(ui.steps.value))
  const budgets = schedule.plans.map((p) => p.budget)
  ui.budget.min = String(Math.min(...budgets))
  ui.budget.max = String(schedule.steps)
  if (!budget || budget > schedule.steps) budget = Math.min(10, schedule.steps)
  ui.budget.value = String(budget)
  drawErrors().catch((e) => status(`error curve: ${describe(e)}`, true))
  await selectPlan()
}

let planSeq = 0

async function selectPlan() {
  const s = schedule!
  const bySpeedup = ui.mode.value === 'speedup'
  $('budget-field').hidden = bySpeedup
  $('speedup-field').hidden = !bySpeedup
  const seq = ++planSeq
  try {
    if (bySpeedup) {
      const picked = await api.schedule(s.model, s.steps, { speedup: Number(ui.speedup.value) })
      if (seq !== planSeq) return // a later choice is already being applied
      budget = picked.plan.budget
    } else {
      // the slider moves over every K; snap to the nearest planned budget
      const want = Number(ui.budget.value)
      const all = [...s.plans.map((p) => p.budget), s.steps]
      budget = all.reduce((b, k) => (Math.abs(k - want) < Math.abs(b - want) ? k : b), all[0])
      ui.budget.value = String(budget)
    }
    status(idle())
  } catch (e) {
    if (seq === planSeq) status(describe(e), true)
  }
  drawPlan()
  showResults()
}

function drawPlan() {
  const s = schedule!
  const plan = s.plans.find((p) => p.budget === budget)
  const mask = plan?.mask ?? '1'.repeat(s.steps)
  const cost = plan?.cost ?? 0
  ui.budgetOut.value = String(budget)
  $('plan-summary').innerHTML =
    `<b>K = ${budget}</b> key steps of N = ${s.steps}: ${budget} transformer calls instead of ${s.steps} ` +
    `(<b>${(s.steps / budget).toFixed(2)}×</b> fewer); expected cost <b>${cost.toPrecision(3)}</b> ` +
    `(Taylor order ${s.forecaster.order}, ${s.forecaster.metric} feature error, ${s.planner.method} planner)`
  $('key-axis').innerHTML = keyAxis(mask)
  $('cost-plot').innerHTML = linePlot({
    points: s.plans.map((p) => [p.budget, p.cost] as const),
    xLabel: 'budget K (transformer calls)',
    yLabel: 'expected cost',
    logY: true,
    mark: plan ? [plan.budget, plan.cost] : undefined,
  })
  errorRules(plan?.keySteps ?? [])
}

let errorPoints: [number, number][] = []
let errorRules = (_keys: readonly number[]) => {}

/** The one-step error comes from the schedule's own cost tensor (.pact.npy, sha256-checked). */
async function drawErrors() {
  const s = schedule!
  const bytes = new Uint8Array(
    await (await fetch(`/schedules/${s.calibration.pactFile}`)).arrayBuffer(),
  )
  if ((await hexDigest('SHA-256', bytes)) !== s.calibration.pactSha256)
    throw new Error('cost tensor does not match the schedule')
  // another model or step count was chosen meanwhile: its own call draws its curve
  if (schedule !== s) return
  const npy = parseNpy(bytes)
  errorPoints = oneStepErrors(
    { steps: s.steps, data: Float64Array.from(npy.data) },
    s.forecaster.includeArrival,
  )
  errorRules = (keys) =>
    ($('error-plot').innerHTML = linePlot({
      points: errorPoints,
      xLabel: 'step',
      yLabel: 'one-step error',
      logY: true,
      rules: keys,
    }))
  drawPlan()
}

function showResults() {
  const budgets = { full: Number(ui.steps.value), budget }
  const got: Partial<Record<Where, Partial<Record<'full' | 'budget', Result>>>> = {}
  for (const where of ['server', 'browser'] as const) {
    for (const [col, b] of Object.entries(budgets) as ['full' | 'budget', number][]) {
      const r = results.get(key(where, b))
      const fig = $(`result-${where}-${col}`)
      fig.replaceChildren()
      if (!r) continue
      ;(got[where] ??= {})[col] = r
      const img = new Image()
      img.src = `data:image/png;base64,${toBase64(r.png)}`
      img.alt = `${col === 'full' ? 'full' : `K=${b}`} (${where})`
      const cap = document.createElement('figcaption')
      cap.textContent = `${col === 'full' ? `full, ${b} steps` : `K = ${b}`}: ${r.ms.toFixed(0)} ms, ${r.nfe} transformer calls`
      fig.append(img, cap)
      Object.assign(fig.dataset, { ms: r.ms.toFixed(1), nfe: String(r.nfe), png: toBase64(r.png) })
    }
    const g = got[where]
    $(`psnr-${where}`).textContent =
      g?.full && g.budget
        ? `PSNR K = ${budget} vs full: ${pngPsnr(g.full.png, g.budget.png).toFixed(2)} dB`
        : ''
  }
  const pairs = (['full', 'budget'] as const).filter((c) => got.server?.[c] && got.browser?.[c])
  const same = pairs.map((c) => maxPixelDiff(got.server![c]!.png, got.browser![c]!.png))
  const identical = pairs.every(
    (c) => toBase64(got.server![c]!.png) === toBase64(got.browser![c]!.png),
  )
  $('match').dataset.compared = String(pairs.length)
  $('match').dataset.identical = String(pairs.length > 0 && identical)
  $('match').textContent = pairs.length
    ? identical
      ? `Browser = server: identical PNG bytes (${pairs.join(', ')})`
      : `Browser vs server: largest pixel difference ${Math.max(...same).toFixed(4)} (${pairs.join(', ')})`
    : ''
}

async function runServer() {
  const p = params()
  for (const b of new Set([p.steps, budget])) {
    status(`server: ${b === p.steps ? 'full' : `K = ${b}`}…`)
    const out = await api.generate({ ...p, budget: b, format: 'json' })
    results.set(key('server', b), {
      png: fromBase64(out.images[0].png),
      ms: out.timing.totalMs,
      nfe: out.nfe,
    })
    showResults()
  }
}

async function engineFor(model: string) {
  const choice = ui.backend.value as BackendChoice
  const id = `${model}|${choice}`
  if (!engines.has(id)) {
    const loading = (async () => {
      const { backend, reason } = await pickBackend(choice)
      const t0 = performance.now()
      status(`browser: loading ${model} (${backend}), checking sha256…`)
      const engine = await loadBrowserEngine(model, backend)
      return {
        engine,
        reason: `${reason}; model loaded and verified in ${(performance.now() - t0).toFixed(0)} ms`,
      }
    })()
    engines.set(id, loading)
    loading.catch(() => engines.delete(id))
  }
  return engines.get(id)!
}

async function runBrowser() {
  const p = params()
  const { engine, reason } = await engineFor(p.model)
  $('backend-reason').textContent = reason
  $('row-browser').dataset.backend = reason.split(' ')[0]
  for (const b of new Set([p.steps, budget])) {
    status(`browser: ${b === p.steps ? 'full' : `K = ${b}`}…`)
    const out = await generateInBrowser(engine, { ...p, budget: b })
    const png = pngOf(out.images[0].pixels, manifest!.image)
    results.set(key('browser', b), { png, ms: out.timing.totalMs, nfe: out.nfe })
    showResults()
  }
}

function button(id: string, run: () => Promise<void>) {
  const el = $<HTMLButtonElement>(id)
  el.addEventListener('click', async () => {
    el.disabled = true
    try {
      await run()
      status('done')
      el.dataset.done = String(Number(el.dataset.done ?? 0) + 1)
    } catch (e) {
      status(describe(e), true)
      el.dataset.error = describe(e)
    } finally {
      el.disabled = false
    }
  })
}

async function main() {
  models = (await api.models()).models.filter((m) => m.schedules.length > 0)
  for (const m of models) manifests.set(m.id, fetchManifest(m.id))
  // start on the first model this page can also sample
  const runnable = (
    await Promise.all(models.map(async (m) => ((await manifests.get(m.id)) ? m.id : '')))
  ).find(Boolean)
  options(
    ui.model,
    models.map((m) => m.id),
    runnable,
  )
  ui.model.onchange = () => selectModel().catch((e) => status(describe(e), true))
  ui.steps.onchange = () => selectSteps().catch((e) => status(describe(e), true))
  ui.mode.onchange = ui.speedup.onchange = ui.budget.onchange = () => selectPlan()
  ui.budget.oninput = () => (ui.budgetOut.value = ui.budget.value)
  ui.cls.onchange = ui.seed.onchange = () => showResults()
  button('run-server', runServer)
  button('run-browser', runBrowser)
  await selectModel()
  document.body.dataset.ready = 'true'
}

main().catch((e) => status(describe(e), true))
