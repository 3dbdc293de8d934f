/**
 * Schedule recomputation: calibrate -> PACT -> exact DP -> schedules/ (+ tensor + figures).
 *
 *   npm run schedules -- --model tiny-dit-mnist --steps 20 --steps 28 --steps 50
 *   npm run schedules -- --import-pact flux.npy --model flux-dev --steps 50 --order 2
 *
 * Writes, per model and step count, into --out (default schedules/):
 *   <model>/<steps>.json            the schedule (schema dpcache-schedule/v1)
 *   <model>/<steps>.pact.npy|.json  the cost tensor and its provenance
 *   <model>/<steps>.{errors,costs,keys}.svg
 * and rebuilds index.json from the files present. Usage errors exit with code 2.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import cliProgress from 'cli-progress'
import { parseNpy } from '../src/core/npy.ts'
import { buildPact, buildPact4, type Pact } from '../src/core/pact.ts'
import type { Plan } from '../src/core/planner.ts'
import { planAllTriple } from '../src/core/planner-triple.ts'
import { loadModel } from '../src/runtime/engine.ts'
import { calibrate, calibrationCases } from './lib/calibrate.ts'
import { parseScheduleArgs, UsageError, USAGE, type ScheduleArgs } from './lib/schedule-args.ts'
import { runPlanning } from './lib/plan-and-write.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

function bar(label: string) {
  return new cliProgress.SingleBar(
    { format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  )
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: ScheduleArgs
  try {
    args = parseScheduleArgs(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n\n${USAGE}`)
      return 2
    }
    throw e
  }
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (args.importPact) {
    const npy = parseNpy(await read(args.importPact))
    const n = args.steps[0]
    if (npy.shape.join() !== [n, n + 1, n + 1].join()) {
      process.stderr.write(`error: --import-pact: shape (${npy.shape}) is not [${n}, ${n + 1}, ${n + 1}] for --steps ${n}\n`)
      return 2
    }
    const pact: Pact = { steps: n, data: Float64Array.from(npy.data) }
    await runPlanning(args, { pact, modelSha256: null, shift: 1, calibration: { source: 'imported', samples: null, seeds: [], classes: [], guidance: null } })
    return 0
  }
  const model = await loadModel(join(args.modelsDir, args.model), read, { backend: args.backend, threads: 1 })
  const m = model.manifest
  const guidance = args.guidance ?? m.defaultGuidance
  const cases = calibrationCases(args.samples, args.seed, m.classes)
  process.stderr.write(`calibrating ${m.id}: ${args.samples} samples, seeds ${cases.seeds.join(',')}, classes ${cases.classes.join(',')}, guidance ${guidance}\n`)
  for (const steps of args.steps) {
    const b1 = bar(`${steps} steps: calibrate`)
    b1.start(steps, 0)
    const trajs = await calibrate(model.denoiser, { steps, ...cases, guidance, shift: m.sigma.shift, onStep: (i) => b1.update(i + 1) })
    b1.stop()
    const b2 = bar(`${steps} steps: cost tensor`)
    b2.start(1, 0)
    const progress = (done: number, total: number) => {
      b2.setTotal(total)
      b2.update(done)
    }
    const opts = { order: args.order, metric: args.metric, includeArrival: args.includeArrival, onProgress: progress }
    const pact = buildPact(trajs, opts)
    const plans4: Plan[] | undefined = args.cost === '4d' ? planAllTriple(buildPact4(trajs, opts), args.planner) : undefined
    b2.stop()
    await runPlanning(
      { ...args, steps: [steps] },
      {
        pact,
        plans: plans4,
        modelSha256: model.fingerprint,
        shift: m.sigma.shift,
        calibration: { source: 'calibrated', samples: args.samples, seeds: cases.seeds, classes: cases.classes, guidance },
      },
    )
  }
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
