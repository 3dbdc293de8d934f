/**
 * bench:speed: wall-clock of full-step sampling vs DPCache schedules on the demo model,
 * measured side by side in one run (configurations interleaved round-robin, so drift and
 * background load hit all of them alike).
 *
 *   npm run bench:speed [-- --repeats 5 --budgets 25,13,10,8 --batches 1,8 --threads 1]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { StaticMaskPolicy } from '../src/core/policy.ts'
import { sample } from '../src/core/sampler.ts'
import { flowEuler } from '../src/core/solver.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { checkBackend } from '../src/runtime/ort.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny-dit-mnist' },
    steps: { type: 'string', default: '50' },
    budgets: { type: 'string', default: '25,13,10,8' },
    batches: { type: 'string', default: '1,8' },
    repeats: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    'models-dir': { type: 'string', default: 'models' },
    schedules: { type: 'string', default: 'schedules' },
  },
})
const steps = Number(values.steps)
const repeats = Number(values.repeats)
const model = await loadModel(`${values['models-dir']}/${values.model}`, async (p) => new Uint8Array(await readFile(p)), {
  backend: checkBackend(values.backend!),
  threads: Number(values.threads),
})
const schedule = await fileScheduleStore(values.schedules!).get(values.model!, steps)
if (!schedule) throw new Error(`no ${steps}-step schedule for ${values.model} under ${values.schedules}`)
const guidance = model.manifest.defaultGuidance
const configs = [
  { label: `full ${steps}`, budget: steps, mask: '1'.repeat(steps) },
  ...values.budgets!.split(',').map(Number).map((k) => {
    const plan = schedule.plans.find((p) => p.budget === k)
    if (!plan) throw new Error(`schedule has no K=${k}`)
    return { label: `DPCache K=${k}`, budget: k, mask: plan.mask }
  }),
]
const batches = values.batches!.split(',').map(Number)
type Stat = { total: number[]; trunkPerCall: number[]; headPerCall: number[]; forecastPerStep: number[] }
const stats = new Map<string, Stat>()
let peakRss = 0
const run = (mask: string, batch: number) =>
  sample(model.denoiser, flowEuler, {
    steps,
    classes: Array.from({ length: batch }, (_, b) => b % 10),
    seeds: Array.from({ length: batch }, (_, b) => 500 + b),
    guidance,
    order: schedule.forecaster.order,
    policy: new StaticMaskPolicy(mask),
  })
for (const batch of batches) await run(configs[0].mask, batch) // warm-up: JIT, wasm memory growth
for (let r = 0; r < repeats; r++) {
  for (const batch of batches) {
    for (const c of configs) {
      const res = await run(c.mask, batch)
      const key = `${c.label}|${batch}`
      const s = stats.get(key) ?? { total: [], trunkPerCall: [], headPerCall: [], forecastPerStep: [] }
      s.total.push(res.timing.totalMs)
      s.trunkPerCall.push(res.timing.trunkMs / res.nfe)
      s.headPerCall.push(res.timing.headMs / steps)
      if (steps > res.nfe) s.forecastPerStep.push(res.timing.forecastMs / (steps - res.nfe))
      stats.set(key, s)
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }
  }
  process.stderr.write(`round ${r + 1}/${repeats}\n`)
}
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN)
const lines = [
  `Speed: ${values.model}, ${steps} Euler steps, guidance ${guidance} (cond + uncond rows in one call), ${values.backend} ${values.threads} thread(s), median of ${repeats} interleaved rounds. ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
  '',
  '| batch | config | NFE | ms / run | ms / image | speedup vs full | trunk ms / call | head ms / call | forecast ms / skipped step | skipped step / key step |',
  '|---|---|---|---|---|---|---|---|---|---|',
]
for (const batch of batches) {
  const full = median(stats.get(`full ${steps}|${batch}`)!.total)
  for (const c of configs) {
    const s = stats.get(`${c.label}|${batch}`)!
    const tot = median(s.total)
    const trunk = median(s.trunkPerCall)
    const head = median(s.headPerCall)
    const fc = median(s.forecastPerStep)
    const ratio = Number.isNaN(fc) ? '' : `${(((head + fc) / (trunk + head)) * 100).toFixed(1)}%`
    lines.push(
      `| ${batch} | ${c.label} | ${c.budget} | ${tot.toFixed(1)} | ${(tot / batch).toFixed(2)} | ${(full / tot).toFixed(2)}x | ${trunk.toFixed(2)} | ${head.toFixed(3)} | ${Number.isNaN(fc) ? '-' : fc.toFixed(3)} | ${ratio} |`,
    )
  }
}
lines.push('', `Peak RSS of the benchmark process: ${(peakRss / 2 ** 20).toFixed(0)} MiB.`)
console.log(lines.join('\n'))
