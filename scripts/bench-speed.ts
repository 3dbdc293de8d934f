/**
 * bench:speed: wall clock of full-step sampling vs DPCache schedules on the demo model, on every
 * backend available here, measured side by side in one run: backends and configurations are
 * interleaved round-robin in one process, so drift and background load hit all of them alike.
 * WebGPU runs in a Deno child process after the Node rounds (Node has no WebGPU), and is
 * skipped with the reason when Deno finds no adapter.
 *
 *   npm run bench:speed [-- --repeats 5 --webgpu-repeats 1 --budgets 13,10,8 --batches 1,8
 *                           --backends wasm,cpu:1,cpu:2,webgpu]
 *
 * `--json` prints the raw medians instead of tables (the Deno child speaks to its parent so).
 */
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { StaticMaskPolicy } from '../src/core/policy.ts'
import { sample } from '../src/core/sampler.ts'
import { flowEuler } from '../src/core/solver.ts'
import { loadModel, type LoadedModel } from '../src/runtime/engine.ts'
import { availableBackends, checkBackend, type Backend } from '../src/runtime/ort.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny-dit-mnist' },
    steps: { type: 'string', default: '50' },
    budgets: { type: 'string', default: '13,10,8' },
    batches: { type: 'string', default: '1,8' },
    repeats: { type: 'string', default: '5' },
    // WebGPU on a software adapter (Mesa lavapipe) takes seconds per image: fewer rounds there
    'webgpu-repeats': { type: 'string', default: '1' },
    backends: { type: 'string', default: 'wasm,cpu:1,cpu:2,webgpu' },
    'models-dir': { type: 'string', default: 'models' },
    schedules: { type: 'string', default: 'schedules' },
    json: { type: 'boolean', default: false },
  },
})
const steps = Number(values.steps)
const repeats = Number(values.repeats)
const batches = values.batches!.split(',').map(Number)
const isDeno = 'Deno' in globalThis
const log = (s: string) => (values.json ? console.error(s) : process.stderr.write(`${s}\n`))

/** A backend at a thread count, e.g. "cpu:2" (threads default to 1). */
const lanes = values.backends!.split(',').map((s) => {
  const [name, t] = s.split(':')
  return {
    label: s.includes(':') ? `${name} ${t} thread${t === '1' ? '' : 's'}` : name,
    backend: checkBackend(name),
    threads: Number(t ?? 1),
  }
})
const here = await availableBackends()
const skipped: string[] = []
const local = lanes.filter((l) => {
  if (here.includes(l.backend)) return true
  if (!(l.backend === 'webgpu' && !isDeno))
    skipped.push(`${l.label}: not available in this runtime (available: ${here.join(', ')})`)
  return false
})

const read = async (p: string) => new Uint8Array(await readFile(p))
const dir = `${values['models-dir']}/${values.model}`
const models = new Map<string, LoadedModel>()
for (const l of local)
  models.set(l.label, await loadModel(dir, read, { backend: l.backend, threads: l.threads }))
const schedule = await fileScheduleStore(values.schedules!).get(values.model!, steps)
if (!schedule)
  throw new Error(`no ${steps}-step schedule for ${values.model} under ${values.schedules}`)
const anyModel = [...models.values()][0]
const guidance = anyModel?.manifest.defaultGuidance ?? 1
const configs = [
  {
    label: `full ${steps}`,
    budget: steps,
    mask: '1'.repeat(steps),
    orders: undefined,
    segmentSpaces: undefined,
  },
  ...values
    .budgets!.split(',')
    .map(Number)
    .map((k) => {
      const plan = schedule.plans.find((p) => p.budget === k)
      if (!plan) throw new Error(`schedule has no K=${k}`)
      // the plan as it ships: its per-segment orders and forecast spaces
      return {
        label: `K=${k}`,
        budget: k,
        mask: plan.mask,
        orders: plan.orders,
        segmentSpaces: plan.spaces,
      }
    }),
]

/** lane|config|batch -> per-run totals (ms). */
type Medians = Record<string, number>
const runs = new Map<string, number[]>()
const run = (
  m: LoadedModel,
  { mask, orders, segmentSpaces }: (typeof configs)[number],
  batch: number,
) =>
  sample(m.denoiser, flowEuler, {
    steps,
    classes: Array.from({ length: batch }, (_, b) => b % 10),
    seeds: Array.from({ length: batch }, (_, b) => 500 + b),
    guidance,
    order: schedule.forecaster.order,
    orders,
    spaces: schedule.forecaster.spaces,
    segmentSpaces,
    shift: schedule.solver.shift ?? undefined,
    policy: new StaticMaskPolicy(mask),
  })
// warm-up: kernels, shaders, JIT and memory growth at every batch size, on every lane (the
// cheapest plan calls the same graphs at the same shapes as full steps)
for (const m of models.values())
  for (const batch of batches) await run(m, configs[configs.length - 1], batch)
for (let r = 0; r < repeats; r++) {
  for (const batch of batches)
    for (const c of configs)
      for (const [label, m] of models) {
        const key = `${label}|${c.label}|${batch}`
        runs.set(key, [...(runs.get(key) ?? []), (await run(m, c, batch)).timing.totalMs])
      }
  log(`round ${r + 1}/${repeats}`)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const medians: Medians = Object.fromEntries([...runs].map(([k, xs]) => [k, median(xs)]))

if (values.json) {
  console.log(JSON.stringify({ medians, skipped }))
} else {
  // WebGPU: Deno, after the Node rounds (the two processes would compete for the CPU)
  const order = local.map((l) => l.label)
  if (lanes.some((l) => l.backend === 'webgpu') && !isDeno) {
    const child = spawnSync(
      'npx',
      [
        'deno',
        'run',
        '-A',
        '--unstable-webgpu',
        '--no-check',
        '--node-modules-dir=manual',
        'scripts/bench-speed.ts',
        '--json',
        '--backends',
        'webgpu',
        '--repeats',
        values['webgpu-repeats']!,
        '--batches',
        values.batches!,
        '--budgets',
        values.budgets!,
        '--steps',
        String(steps),
      ],
      {
        encoding: 'utf8',
        timeout: 1_200_000,
        env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
      },
    )
    const last = child.stdout?.trim().split('\n').pop() ?? ''
    try {
      const got = JSON.parse(last) as { medians: Medians; skipped: string[] }
      Object.assign(medians, got.medians)
      skipped.push(...got.skipped)
      if (Object.keys(got.medians).length) order.push('webgpu')
    } catch {
      skipped.push(
        `webgpu: the Deno run gave no result (${child.error?.message ?? `exit ${child.status}`}): ${(child.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`,
      )
    }
  }
  console.log(report(order, medians))
  if (skipped.length) console.log(`\nSkipped: ${skipped.join('; ')}.`)
}

function report(order: string[], m: Medians): string {
  const at = (lane: string, c: string, batch: number) => m[`${lane}|${c}|${batch}`]
  const lines = [
    `Speed: ${values.model}, ${steps} Euler steps, guidance ${guidance} (cond + uncond rows in one call), median of ${repeats} interleaved rounds (webgpu: ${values['webgpu-repeats']}, in Deno after the others); ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
    '',
    '| batch | config | NFE | ' +
      order.map((l) => `${l} ms / image`).join(' | ') +
      ' | ' +
      order.map((l) => `${l} speedup vs full`).join(' | ') +
      ' |',
    '|---|---|---|' +
      order
        .map(() => '---|')
        .join('')
        .repeat(2),
  ]
  for (const batch of batches) {
    for (const c of configs) {
      const perImage = order.map((l) => (at(l, c.label, batch) / batch).toFixed(2))
      const speedup = order.map(
        (l) => `${(at(l, configs[0].label, batch) / at(l, c.label, batch)).toFixed(2)}x`,
      )
      lines.push(
        `| ${batch} | ${c.label} | ${c.budget} | ${perImage.join(' | ')} | ${speedup.join(' | ')} |`,
      )
    }
  }
  lines.push(
    '',
    '| batch | config | ' +
      order.map((l) => `${l} vs wasm (per image, higher is faster)`).join(' | ') +
      ' |',
    '|---|---|' + order.map(() => '---|').join(''),
  )
  if (order.includes('wasm')) {
    for (const batch of batches)
      for (const c of configs)
        lines.push(
          `| ${batch} | ${c.label} | ${order.map((l) => `${(at('wasm', c.label, batch) / at(l, c.label, batch)).toFixed(2)}x`).join(' | ')} |`,
        )
  }
  return lines.join('\n')
}
