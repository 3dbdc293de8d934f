/**
 * Generate images from the command line with a DPCache schedule:
 *
 *   npm run generate -- --class 7 --seed 1 --budget 10 --out seven.png
 *
 * `--help` lists the options (scripts/lib/generate-args.ts). Usage errors, and requests the
 * model or its schedules cannot serve, print one line and exit 2; nothing prints a stack trace.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { PlanError } from '../src/core/resolve.ts'
import { loadEngine, resolveRequest } from '../src/runtime/engine.ts'
import { BackendUnavailableError } from '../src/runtime/ort.ts'
import { encodePng } from '../src/runtime/png.ts'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'
import {
  GENERATE_USAGE,
  GenerateUsageError,
  parseGenerateArgs,
  type GenerateArgs,
} from './lib/generate-args.ts'

function fail(message: string, code = 2): never {
  process.stderr.write(`error: ${message}\n`)
  process.exit(code)
}

let args: GenerateArgs
try {
  args = parseGenerateArgs(process.argv.slice(2))
} catch (e) {
  if (!(e instanceof GenerateUsageError)) throw e
  process.stderr.write(`error: ${e.message} (npm run generate -- --help lists the options)\n`)
  process.exit(2)
}
if (args.help) {
  process.stdout.write(GENERATE_USAGE)
  process.exit(0)
}

const engine = await loadEngine({
  modelsDir: args.modelsDir,
  modelIds: [args.model],
  readFile: async (p) => new Uint8Array(await readFile(p)),
  backend: args.backend,
  threads: args.threads,
}).catch((e: Error) =>
  // a backend that cannot start here names the ones that can: a usage error, exit 2
  e instanceof BackendUnavailableError
    ? fail(e.message)
    : fail(`cannot load model '${args.model}' from ${args.modelsDir}: ${e.message}`, 1),
)
const info = engine.models()[0]
if (args.class >= info.classes)
  fail(
    `--class must be an integer in [0, ${info.classes - 1}] for ${args.model}, got ${args.class}`,
  )
const guidance = args.guidance ?? info.defaultGuidance
const items = Array.from({ length: args.batch }, (_, k) => ({
  class: args.class,
  seed: args.seed + k,
}))
const selector =
  args.speedup !== undefined
    ? { speedup: args.speedup }
    : args.budget !== undefined
      ? { budget: args.budget }
      : {}
const plan = await resolveRequest(info, fileScheduleStore(args.schedules), {
  steps: args.steps,
  ...selector,
}).catch((e: Error) => {
  if (!(e instanceof PlanError)) throw e
  // the resolver's errors are the API's 4xx: say which flag and what it allows, in one line
  const allowed = Array.isArray(e.allowed)
    ? `: one of ${e.allowed.join(', ')}`
    : e.allowed
      ? `: ${JSON.stringify(e.allowed)}`
      : ''
  return fail(`${e.message}${e.field ? ` (--${e.field}${allowed})` : ''}`)
})
const out = await engine.generate({ plan, guidance, items })
const { steps, budget } = plan
const file = args.out ?? `${args.model}-c${args.class}-s${args.seed}-k${budget}.png`
await writeFile(
  file,
  encodePng(
    out.images.map((im) => im.pixels),
    info.image,
  ).png,
)
const t = out.timing
process.stdout.write(
  `${file}: class ${args.class}, seeds ${args.seed}..${args.seed + args.batch - 1}, ${steps} steps, NFE ${out.nfe} (${(steps / out.nfe).toFixed(2)}x fewer trunk calls)\n` +
    `key steps: ${out.keySteps.join(',')}\n` +
    `time: ${t.totalMs.toFixed(1)} ms total (trunk ${t.trunkMs.toFixed(1)}, head ${t.headMs.toFixed(1)}, forecast ${t.forecastMs.toFixed(1)}) on ${args.backend}\n`,
)
