/**
 * Generate digits from the command line with a DPCache schedule:
 *
 *   npm run generate -- --class 7 --seed 1 --budget 10 --out seven.png
 *
 * Options: --steps N (default: the model's), --budget K (default: N, full compute),
 * --guidance G, --batch B (seeds seed..seed+B-1, one grid PNG), --backend wasm|webgpu,
 * --threads T, --model ID, --models-dir DIR, --schedules DIR.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { PlanError } from '../src/core/resolve.ts'
import { loadEngine, resolveRequest } from '../src/runtime/engine.ts'
import { checkBackend } from '../src/runtime/ort.ts'
import { encodePng } from '../src/runtime/png.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'

function fail(message: string): never {
  process.stderr.write(`error: ${message}\nusage: npm run generate -- --class C [--seed S] [--steps N] [--budget K] [--guidance G] [--batch B] [--backend wasm|webgpu] [--out FILE.png]\n`)
  process.exit(2)
}

function intArg(name: string, v: string | undefined, fallback: number, lo: number, hi: number): number {
  if (v === undefined) return fallback
  if (!/^[0-9]+$/.test(v) || Number(v) < lo || Number(v) > hi) fail(`--${name} must be an integer in [${lo}, ${hi}], got '${v}'`)
  return Number(v)
}

let values
try {
  values = parseArgs({
    options: {
      class: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      budget: { type: 'string' },
      guidance: { type: 'string' },
      batch: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      model: { type: 'string' },
      'models-dir': { type: 'string' },
      schedules: { type: 'string' },
      out: { type: 'string' },
    },
  }).values
} catch (e) {
  fail((e as Error).message)
}
let backend
try {
  backend = checkBackend(values.backend ?? 'wasm')
} catch (e) {
  fail(`--backend: ${(e as Error).message}`)
}
const modelId = values.model ?? 'tiny-dit-mnist'
const engine = await loadEngine({
  modelsDir: values['models-dir'] ?? 'models',
  modelIds: [modelId],
  readFile: async (p) => new Uint8Array(await readFile(p)),
  backend,
  threads: intArg('threads', values.threads, 1, 1, 16),
})
const info = engine.models()[0]
const cls = intArg('class', values.class, -1, 0, info.classes - 1)
if (cls < 0) fail('--class is required')
const steps = intArg('steps', values.steps, info.defaultSteps, 1, 1000)
const budget = intArg('budget', values.budget, steps, 1, steps)
const batch = intArg('batch', values.batch, 1, 1, 64)
const seed = intArg('seed', values.seed, 0, 0, 2 ** 31)
const guidance = values.guidance === undefined ? info.defaultGuidance : Number(values.guidance)
if (!(guidance >= 1 && guidance <= 20)) fail(`--guidance must be a number in [1, 20], got '${values.guidance}'`)

const items = Array.from({ length: batch }, (_, k) => ({ class: cls, seed: seed + k }))
let plan
try {
  plan = await resolveRequest(info, fileScheduleStore(values.schedules ?? 'schedules'), { steps, budget })
} catch (e) {
  if (e instanceof PlanError) fail(`--${e.field ?? 'steps'}: ${e.message}${e.allowed ? ` (allowed: ${JSON.stringify(e.allowed)})` : ''}`)
  throw e
}
const out = await engine.generate({ plan, guidance, items })
const file = values.out ?? `digit-${cls}-seed${seed}-k${budget}.png`
await writeFile(file, encodePng(out.images.map((im) => im.pixels), info.image).png)
const t = out.timing
process.stdout.write(
  `${file}: class ${cls}, seeds ${seed}..${seed + batch - 1}, ${steps} steps, NFE ${out.nfe} (${(steps / out.nfe).toFixed(2)}x fewer trunk calls)\n` +
    `key steps: ${out.keySteps.join(',')}\n` +
    `time: ${t.totalMs.toFixed(1)} ms total (trunk ${t.trunkMs.toFixed(1)}, head ${t.headMs.toFixed(1)}, forecast ${t.forecastMs.toFixed(1)}) on ${backend}\n`,
)
