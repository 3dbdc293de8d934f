/**
 * The one module that owns onnxruntime-web. Nothing happens at import: the host picks a
 * backend and the module is loaded on first use. Sessions run one at a time through a promise
 * chain, because onnxruntime-web rejects concurrent runs on a session.
 */
import type * as Ort from 'onnxruntime-web'

export type Backend = 'wasm' | 'webgpu'

/** Backend -> module and execution providers. Frozen: the list users choose from. */
export const BACKENDS: Readonly<Record<Backend, { module: string; providers: readonly string[] }>> = Object.freeze({
  wasm: { module: 'onnxruntime-web', providers: ['wasm'] },
  webgpu: { module: 'onnxruntime-web/webgpu', providers: ['webgpu'] },
})

export class ModelError extends Error {
  override name = 'ModelError'
}

export function checkBackend(value: string): Backend {
  if (!(value in BACKENDS)) {
    throw new ModelError(`unknown backend '${value}' (allowed: ${Object.keys(BACKENDS).join(', ')})`)
  }
  return value as Backend
}

export interface OrtOptions {
  backend?: Backend
  /** wasm threads; 1 where the host has no worker threads (workerd). */
  threads?: number
  /**
   * Where the runtime's .wasm files are served (browsers: a path on the page's own host,
   * e.g. '/static/ort/', never a CDN). Unset: next to the module, which is right on Node/Deno.
   */
  wasmPaths?: string
}

export interface TensorSpec {
  name: string
  dtype: 'float32' | 'int64'
  /** Numbers are fixed; a string (e.g. "B") is a dynamic dimension. */
  shape: readonly (number | string)[]
}

export type Feeds = Record<string, { data: Float32Array | BigInt64Array; dims: readonly number[] }>

/** A loaded graph: checked inputs, serialized runs, plain typed arrays out. */
export interface GraphSession {
  readonly name: string
  run(feeds: Feeds): Promise<Record<string, { data: Float32Array; dims: number[] }>>
  release(): Promise<void>
}

const loaded = new Map<Backend, Promise<typeof Ort>>()

/** Loads (once) the onnxruntime-web build for `backend` and applies its settings. */
export function loadOrt(opts: OrtOptions = {}): Promise<typeof Ort> {
  const backend = opts.backend ?? 'wasm'
  let mod = loaded.get(backend)
  if (!mod) {
    mod = (backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web')).then((ort) => {
      ort.env.wasm.numThreads = opts.threads ?? 1
      if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths
      ort.env.logLevel = 'error'
      return ort
    })
    loaded.set(backend, mod)
  }
  return mod
}

/**
 * Creates a session for one graph. `label` (e.g. "tiny-dit-mnist/trunk") names it in errors;
 * `inputs` is the manifest's contract, checked on every run.
 */
export async function createGraphSession(
  bytes: Uint8Array,
  label: string,
  inputs: readonly TensorSpec[],
  opts: OrtOptions = {},
): Promise<GraphSession> {
  const backend = opts.backend ?? 'wasm'
  const ort = await loadOrt(opts)
  let session: Ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [...BACKENDS[backend].providers],
      graphOptimizationLevel: 'all',
    })
  } catch (e) {
    throw new ModelError(`${label}: cannot create a ${backend} session: ${(e as Error).message}`)
  }
  const missing = inputs.filter((s) => !session.inputNames.includes(s.name)).map((s) => s.name)
  if (missing.length > 0) {
    throw new ModelError(`${label}: graph inputs are [${session.inputNames}], manifest expects [${inputs.map((s) => s.name)}]`)
  }
  let chain: Promise<unknown> = Promise.resolve()
  return {
    name: label,
    run(feeds) {
      const next = chain.then(() => runChecked(ort, session, label, inputs, feeds))
      chain = next.catch(() => undefined)
      return next
    },
    release: () => session.release(),
  }
}

async function runChecked(
  ort: typeof Ort,
  session: Ort.InferenceSession,
  label: string,
  inputs: readonly TensorSpec[],
  feeds: Feeds,
): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const ortFeeds: Record<string, Ort.Tensor> = {}
  const batch = new Map<string, number>()
  for (const spec of inputs) {
    const f = feeds[spec.name]
    if (!f) throw new ModelError(`${label}: missing input '${spec.name}'`)
    const expected = `[${spec.shape.join(', ')}]`
    const ok =
      f.dims.length === spec.shape.length &&
      spec.shape.every((d, k) => {
        if (typeof d === 'number') return f.dims[k] === d
        const seen = batch.get(d)
        batch.set(d, f.dims[k])
        return seen === undefined || seen === f.dims[k]
      })
    if (!ok) throw new ModelError(`${label}: input '${spec.name}' has shape [${f.dims.join(', ')}], expected ${expected}`)
    ortFeeds[spec.name] = new ort.Tensor(spec.dtype, f.data, f.dims)
  }
  let out: Ort.InferenceSession.ReturnType
  try {
    out = await session.run(ortFeeds)
  } catch (e) {
    const described = Object.entries(feeds).map(([n, f]) => `${n}: ${f.data.constructor.name}[${f.dims}]`)
    throw new ModelError(`${label}: run failed (${(e as Error).message}); inputs ${described.join(', ')}`)
  }
  const result: Record<string, { data: Float32Array; dims: number[] }> = {}
  for (const [name, t] of Object.entries(out)) {
    result[name] = { data: (await t.getData()) as Float32Array, dims: [...t.dims] }
    t.dispose()
  }
  return result
}
