/**
 * The generation engine behind POST /v1/generate on Node and Deno:
 *
 *   const engine = await loadEngine({ modelsDir, modelIds: ['tiny-dit-mnist'], readFile, store, backend })
 *   const out = await engine.generate({ model, steps, budget, guidance, items: [{ class, seed }] })
 *
 * One `generate` call is one sampler run for all its items (they share model, steps, budget and
 * guidance: the queue groups requests that way). budget === steps is plain full-step sampling
 * and needs no schedule; any other budget takes that plan from the model's schedule for
 * exactly `steps` steps, never one made for another step count.
 */
import { StaticMaskPolicy } from '../core/policy.ts'
import { sample, type Denoiser } from '../core/sampler.ts'
import type { ScheduleStore } from '../core/schedule.ts'
import { flowEuler } from '../core/solver.ts'
import { modelFingerprint, parseManifest, readVerifiedGraph, type GraphEntry, type Manifest } from './manifest.ts'
import { createGraphSession, ModelError, type OrtOptions } from './ort.ts'
import { SingleGraphDenoiser, TrunkHeadDenoiser } from './denoiser.ts'

export interface ModelInfo {
  id: string
  classes: number
  nullClass: number
  defaultGuidance: number
  defaultSteps: number
  image: { channels: number; height: number; width: number }
}

export interface GenerateInput {
  model: string
  steps: number
  budget: number
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
}

export type EngineErrorCode = 'unknown_model' | 'no_schedule' | 'unknown_budget' | 'bad_request' | 'schedule_mismatch'

/** A request the engine cannot serve; `allowed` lists what would work. */
export class EngineError extends Error {
  override name = 'EngineError'
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly field?: string,
    readonly allowed?: readonly (string | number)[],
  ) {
    super(message)
  }
}

export interface LoadedModel {
  manifest: Manifest
  denoiser: Denoiser
  fingerprint: string
}

/** Loads one model folder: manifest, hash-verified graphs, sessions, denoiser. */
export async function loadModel(
  dir: string,
  readFile: (path: string) => Promise<Uint8Array>,
  ort: OrtOptions = {},
): Promise<LoadedModel> {
  const manifest = parseManifest(JSON.parse(new TextDecoder().decode(await readFile(`${dir}/manifest.json`))), `${dir}/manifest.json`)
  const session = async (name: string, entry: GraphEntry) =>
    createGraphSession(await readVerifiedGraph(readFile, dir, manifest.id, entry), `${manifest.id}/${name}`, entry.inputs, ort)
  const denoiser =
    manifest.kind === 'trunk-head'
      ? new TrunkHeadDenoiser(manifest, await session('trunk', manifest.graphs.trunk), await session('head', manifest.graphs.head))
      : new SingleGraphDenoiser(manifest, await session('model', manifest.graphs.model))
  return { manifest, denoiser, fingerprint: await modelFingerprint(manifest) }
}

export interface EngineOptions extends OrtOptions {
  modelsDir: string
  modelIds: readonly string[]
  readFile: (path: string) => Promise<Uint8Array>
  store: ScheduleStore
}

export async function loadEngine(opts: EngineOptions): Promise<Engine> {
  const models = new Map<string, LoadedModel>()
  for (const id of opts.modelIds) {
    const model = await loadModel(`${opts.modelsDir}/${id}`, opts.readFile, opts)
    // requests name models by folder; a manifest that calls itself something else would
    // leave a model no request can reach
    if (model.manifest.id !== id) {
      throw new ModelError(`${opts.modelsDir}/${id}/manifest.json declares id '${model.manifest.id}', but its folder is '${id}': rename one so they match`)
    }
    models.set(id, model)
  }
  return createEngine(models, opts.store)
}

export function createEngine(models: ReadonlyMap<string, LoadedModel>, store: ScheduleStore): Engine {
  return {
    models: () =>
      [...models.values()].map(({ manifest: m }) => ({
        id: m.id,
        classes: m.classes,
        nullClass: m.nullClass,
        defaultGuidance: m.defaultGuidance,
        defaultSteps: m.defaultSteps,
        image: { channels: m.image.channels, height: m.image.height, width: m.image.width },
      })),

    async generate(input) {
      const model = models.get(input.model)
      if (!model) throw new EngineError('unknown_model', `unknown model '${input.model}'`, 'model', [...models.keys()])
      const { manifest, denoiser } = model
      const bad = input.items.find((it) => !Number.isInteger(it.class) || it.class < 0 || it.class >= manifest.classes)
      if (bad) throw new EngineError('bad_request', `class must be an integer in [0, ${manifest.classes - 1}]`, 'class')
      let mask = '1'.repeat(input.steps)
      let order = 1
      let shift = manifest.sigma.shift
      if (input.budget !== input.steps) {
        const schedule = await store.get(input.model, input.steps)
        if (!schedule) throw new EngineError('no_schedule', `no schedule for ${input.model} at ${input.steps} steps`, 'steps')
        if (schedule.modelSha256 !== null && schedule.modelSha256 !== model.fingerprint) {
          throw new EngineError('schedule_mismatch', `the ${input.steps}-step schedule of ${input.model} was calibrated on other weights; recompute it`)
        }
        const plan = schedule.plans.find((p) => p.budget === input.budget)
        if (!plan) {
          const budgets = [...schedule.plans.map((p) => p.budget), input.steps]
          throw new EngineError('unknown_budget', `no ${input.budget}-key plan for ${input.steps} steps`, 'budget', budgets)
        }
        mask = plan.mask
        order = schedule.forecaster.order
        shift = schedule.solver.shift
      }
      const res = await sample(denoiser, flowEuler, {
        steps: input.steps,
        classes: input.items.map((it) => it.class),
        seeds: input.items.map((it) => it.seed),
        guidance: input.guidance,
        policy: new StaticMaskPolicy(mask, 'schedule'),
        order,
        shift,
        signal: input.signal,
      })
      const row = res.images.data.length / input.items.length
      return {
        model: input.model,
        steps: input.steps,
        budget: input.budget,
        keySteps: res.keySteps,
        nfe: res.nfe,
        images: input.items.map((it, b) => ({ ...it, pixels: res.images.data.slice(b * row, (b + 1) * row) })),
        timing: res.timing,
      }
    },
  }
}

