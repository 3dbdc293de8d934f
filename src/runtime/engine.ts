/**
 * The generation engine behind POST /v1/generate on Node and Deno:
 *
 *   const engine = await loadEngine({ modelsDir, modelIds: ['tiny-dit-mnist'], readFile, backend })
 *   const plan = await resolveRequest(engine.models()[0], store, { steps: 50, budget: 10 })
 *   const out = await engine.generate({ plan, guidance: 3, items: [{ class, seed }] })
 *
 * One `generate` call is one sampler run for all its items (they share the plan and guidance:
 * the queue groups requests that way). The engine runs a resolved plan (src/core/resolve.ts)
 * and never reads schedules itself; `resolveRequest` fetches the schedule a request needs.
 */
import { StaticMaskPolicy } from '../core/policy.ts'
import {
  checkCompatible,
  fullPlan,
  isFullRequest,
  PlanError,
  resolvePlan,
  type PlanModel,
  type PlanSelector,
  type ResolvedPlan,
} from '../core/resolve.ts'
import { sample, type Denoiser } from '../core/sampler.ts'
import type { ScheduleStore } from '../core/schedule.ts'
import { flowEuler } from '../core/solver.ts'
import {
  modelFingerprint,
  parseManifest,
  readVerifiedGraph,
  type GraphEntry,
  type Manifest,
} from './manifest.ts'
import { createGraphSession, ModelError, type GraphSession, type OrtOptions } from './ort.ts'
import { SingleGraphDenoiser, TrunkHeadDenoiser } from './denoiser.ts'
import { ScheduleRefusedError } from './schedule-store.ts'
import { CostModel, servedRows, warmUp } from './warmup.ts'

export interface ModelInfo extends PlanModel {
  classes: number
  nullClass: number
  defaultGuidance: number
  fingerprint: string
  image: { channels: number; height: number; width: number }
}

export interface GenerateInput {
  plan: ResolvedPlan
  guidance: number
  items: { class: number; seed: number }[]
  signal?: AbortSignal
}

export interface GeneratedImage {
  class: number
  seed: number
  /** [C, H, W] in the model's pixel range ([-1, 1] for the demo). */
  pixels: Float32Array
}

export interface GenerateOutput {
  model: string
  steps: number
  budget: number
  keySteps: number[]
  nfe: number
  images: GeneratedImage[]
  timing: { trunkMs: number; forecastMs: number; headMs: number; totalMs: number }
}

export interface Engine {
  models(): ModelInfo[]
  generate(input: GenerateInput): Promise<GenerateOutput>
  /**
   * Runs every graph of every model once at each batch size a queue of `maxBatch` items forms
   * (guidance doubles the rows), so the first request pays no kernel or shader compilation.
   */
  warm(maxBatch: number, onProgress?: (done: number, total: number) => void): Promise<void>
  /** Predicted wall time of one run, from measured call times; undefined before `warm`. */
  estimateMs(run: Omit<GenerateInput, 'items' | 'signal'> & { items: number }): number | undefined
}

/**
 * Resolves a request for one of the engine's models: reads the schedule for the requested
 * step count (if any) and applies the one plan resolver. Throws `PlanError`.
 */
export async function resolveRequest(
  info: ModelInfo,
  store: ScheduleStore,
  request: PlanSelector & { steps?: number },
): Promise<ResolvedPlan> {
  const steps = request.steps ?? info.defaultSteps
  let schedule
  try {
    schedule = await store.get(info.id, steps)
  } catch (err) {
    if (!(err instanceof ScheduleRefusedError)) throw err
    // a refused schedule costs the cache, never plain sampling at a step count it lists
    if (isFullRequest(request, steps)) return fullPlan(info, steps)
    throw new PlanError(
      'unavailable',
      'schedule_refused',
      `${err.message}; only full compute (budget ${steps}) runs at ${steps} steps`,
      'budget',
      [steps],
    )
  }
  const listed = schedule
    ? []
    : ((await store.index()).models
        .find((m) => m.model === info.id)
        ?.schedules.map((s) => s.steps) ?? [])
  return resolvePlan(info, schedule, { ...request, steps }, listed)
}

/**
 * Checks every listed schedule of the engine's models against its model (weights and shift)
 * at boot, so a mismatch is refused, reported by /healthz, and never half-used. Returns the
 * number of schedules that passed.
 */
export async function verifySchedules(
  models: readonly ModelInfo[],
  store: ScheduleStore & { refuse?(model: string, steps: number, reason: string): void },
): Promise<number> {
  const index = await store.index()
  let ok = 0
  for (const info of models) {
    for (const { steps } of index.models.find((m) => m.model === info.id)?.schedules ?? []) {
      try {
        const schedule = await store.get(info.id, steps)
        if (schedule) checkCompatible(info, schedule)
        ok++
      } catch (err) {
        if (err instanceof PlanError) store.refuse?.(info.id, steps, err.message)
        else if (!(err instanceof ScheduleRefusedError)) throw err
      }
    }
  }
  return ok
}

export interface LoadedModel {
  manifest: Manifest
  denoiser: Denoiser
  fingerprint: string
  /** frees the graphs' sessions (and their GPU buffers); the model cannot run after it */
  release(): Promise<void>
}

/** Loads one model folder: manifest, hash-verified graphs, sessions, denoiser. */
export async function loadModel(
  dir: string,
  readFile: (path: string) => Promise<Uint8Array>,
  ort: OrtOptions = {},
): Promise<LoadedModel> {
  const manifest = parseManifest(
    JSON.parse(new TextDecoder().decode(await readFile(`${dir}/manifest.json`))),
    `${dir}/manifest.json`,
  )
  const sessions: GraphSession[] = []
  const session = async (name: string, entry: GraphEntry) => {
    const s = await createGraphSession(
      await readVerifiedGraph(readFile, dir, manifest.id, entry),
      `${manifest.id}/${name}`,
      entry.inputs,
      ort,
    )
    sessions.push(s)
    return s
  }
  const denoiser =
    manifest.kind === 'trunk-head'
      ? new TrunkHeadDenoiser(
          manifest,
          await session('trunk', manifest.graphs.trunk),
          await session('head', manifest.graphs.head),
        )
      : new SingleGraphDenoiser(manifest, await session('model', manifest.graphs.model))
  return {
    manifest,
    denoiser,
    fingerprint: await modelFingerprint(manifest),
    release: async () => {
      await Promise.all(sessions.map((s) => s.release()))
    },
  }
}

export interface EngineOptions extends OrtOptions {
  modelsDir: string
  modelIds: readonly string[]
  readFile: (path: string) => Promise<Uint8Array>
}

export async function loadEngine(opts: EngineOptions): Promise<Engine> {
  const models = new Map<string, LoadedModel>()
  for (const id of opts.modelIds) {
    const model = await loadModel(`${opts.modelsDir}/${id}`, opts.readFile, opts)
    // requests name models by folder; a manifest that calls itself something else would
    // leave a model no request can reach
    if (model.manifest.id !== id) {
      throw new ModelError(
        `${opts.modelsDir}/${id}/manifest.json declares id '${model.manifest.id}', but its folder is '${id}': rename one so they match`,
      )
    }
    models.set(id, model)
  }
  return createEngine(models)
}

const rowsOf = (items: number, guidance: number) => (guidance === 1 ? items : 2 * items)

export function createEngine(models: ReadonlyMap<string, LoadedModel>): Engine {
  const infos = [...models.values()].map(({ manifest: m, fingerprint }) => ({
    id: m.id,
    classes: m.classes,
    nullClass: m.nullClass,
    defaultGuidance: m.defaultGuidance,
    defaultSteps: m.defaultSteps,
    shift: m.sigma.shift,
    fingerprint,
    image: { channels: m.image.channels, height: m.image.height, width: m.image.width },
  }))
  const costs = new CostModel()
  return {
    models: () => infos,

    async warm(maxBatch, onProgress) {
      const rows = servedRows(maxBatch)
      const all = [...models.values()]
      for (const [k, { manifest, denoiser }] of all.entries()) {
        const report = (done: number, total: number) =>
          onProgress?.(k * total + done, all.length * total)
        costs.set(manifest.id, await warmUp(denoiser, manifest.nullClass, rows, report))
      }
    },

    estimateMs: ({ plan, guidance, items }) =>
      costs.estimateMs(plan.model, {
        rows: rowsOf(items, guidance),
        steps: plan.steps,
        nfe: plan.budget,
      }),

    async generate({ plan, guidance, items, signal }) {
      const model = models.get(plan.model)
      if (!model)
        throw new PlanError(
          'not_found',
          'unknown_model',
          `unknown model '${plan.model}'`,
          'model',
          [...models.keys()],
        )
      const { manifest, denoiser } = model
      const bad = items.find(
        (it) => !Number.isInteger(it.class) || it.class < 0 || it.class >= manifest.classes,
      )
      if (bad) {
        throw new PlanError(
          'invalid',
          'invalid_field',
          `class must be an integer in [0, ${manifest.classes - 1}] for ${manifest.id}`,
          'class',
          {
            min: 0,
            max: manifest.classes - 1,
          },
        )
      }
      const res = await sample(denoiser, flowEuler, {
        steps: plan.steps,
        classes: items.map((it) => it.class),
        seeds: items.map((it) => it.seed),
        guidance,
        policy: new StaticMaskPolicy(plan.mask, plan.source),
        order: plan.order,
        orders: plan.orders,
        spaces: plan.spaces,
        segmentSpaces: plan.segmentSpaces,
        shift: plan.shift,
        signal,
      })
      const rows = rowsOf(items.length, guidance)
      costs.observe(plan.model, { rows, steps: plan.steps, nfe: res.nfe }, res.timing.totalMs)
      const row = res.images.data.length / items.length
      return {
        model: plan.model,
        steps: plan.steps,
        budget: plan.budget,
        keySteps: res.keySteps,
        nfe: res.nfe,
        images: items.map((it, b) => ({
          ...it,
          pixels: res.images.data.slice(b * row, (b + 1) * row),
        })),
        timing: res.timing,
      }
    },
  }
}
