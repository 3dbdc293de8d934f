/**
 * The one module that owns onnxruntime: onnxruntime-web (wasm everywhere, webgpu in Deno and
 * browsers) and, on Node only, onnxruntime-node (native cpu, cuda on GPU machines). Nothing
 * happens at import: the host picks a backend, `ensureBackend` checks it can start here, and
 * the runtime module is loaded on first use. Sessions run one at a time through a promise
 * chain, because onnxruntime-web rejects concurrent runs on a session.
 */
import type * as Ort from 'onnxruntime-web'

export type Backend = 'wasm' | 'webgpu' | 'cpu' | 'cuda'
type Runtime = 'node' | 'deno' | 'browser' | 'workerd'

/** Backend -> runtime module, execution providers and the runtimes it can run on. Frozen. */
export const BACKENDS: Readonly<
  Record<Backend, { module: string; providers: readonly string[]; runtimes: readonly Runtime[] }>
> = Object.freeze({
  wasm: { module: 'onnxruntime-web', providers: ['wasm'], runtimes: ['node', 'deno', 'browser'] },
  webgpu: {
    module: 'onnxruntime-web/webgpu',
    providers: ['webgpu'],
    runtimes: ['deno', 'browser'],
  },
  cpu: { module: 'onnxruntime-node', providers: ['cpu'], runtimes: ['node'] },
  cuda: { module: 'onnxruntime-node', providers: ['cuda'], runtimes: ['node'] },
})

export class ModelError extends Error {
  override name = 'ModelError'
}

/** A backend that cannot start on this machine; the message names the ones that can. */
export class BackendUnavailableError extends ModelError {
  override name = 'BackendUnavailableError'
  constructor(
    readonly backend: Backend,
    readonly reason: string,
    readonly available: readonly Backend[],
  ) {
    super(
      `backend '${backend}' cannot start: ${reason}; backends that work here: ${available.join(', ') || 'none'}`,
    )
  }
}

export function checkBackend(value: string): Backend {
  if (!(value in BACKENDS)) {
    throw new ModelError(
      `unknown backend '${value}' (allowed: ${Object.keys(BACKENDS).join(', ')})`,
    )
  }
  return value as Backend
}

export interface OrtOptions {
  backend?: Backend
  /** wasm threads, or native intra-op threads; 1 where the host has no worker threads (workerd). */
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

function currentRuntime(): Runtime {
  const g = globalThis as {
    Deno?: unknown
    process?: { versions?: { node?: string } }
    navigator?: { userAgent?: string }
  }
  if (g.Deno) return 'deno'
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd'
  if (g.process?.versions?.node) return 'node'
  return 'browser'
}

// a variable, so bundlers (wrangler, vite) never follow it into the Worker or a browser build
const NATIVE_MODULE = BACKENDS.cpu.module

/**
 * Why `backend` cannot start here, or undefined when it can. Checked before the runtime module
 * loads: onnxruntime-web's WebGPU build is a 27 MB wasm module, and once loaded on Node its
 * background compilation keeps the process from exiting for minutes (Node waits for V8's
 * platform tasks in NodePlatform::DrainTasks), which is how `BACKEND=webgpu` on Node used to hang.
 */
async function whyNot(backend: Backend): Promise<string | undefined> {
  const runtime = currentRuntime()
  if (!BACKENDS[backend].runtimes.includes(runtime)) {
    return `it runs on ${BACKENDS[backend].runtimes.join(' or ')}, not ${runtime}`
  }
  if (backend === 'webgpu') {
    const gpu = (
      globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined
    )?.gpu
    if (!gpu) return 'this runtime has no navigator.gpu (Deno needs --unstable-webgpu)'
    if (!(await gpu.requestAdapter()))
      return 'navigator.gpu found no adapter (no GPU driver or Vulkan ICD)'
  }
  if (backend === 'cpu' || backend === 'cuda') {
    let native: { listSupportedBackends?: () => { name: string }[] }
    try {
      native = await import(/* @vite-ignore */ NATIVE_MODULE)
    } catch (e) {
      return `onnxruntime-node is not installed or does not load (${(e as Error).message.split('\n')[0]})`
    }
    const listed = native.listSupportedBackends?.().map((b) => b.name) ?? []
    if (!listed.includes(backend)) return `this onnxruntime-node build has no ${backend} provider`
    if (backend === 'cuda' && !(await cudaProviderInstalled())) {
      return 'the CUDA provider library is not installed (reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, see docs/deploy.md)'
    }
  }
  return undefined
}

/** The npm package ships the CPU provider only; the CUDA one is a separate download. */
async function cudaProviderInstalled(): Promise<boolean> {
  const builtin = (name: string) => import(/* @vite-ignore */ `node:${name}`)
  const { createRequire } = (await builtin('module')) as typeof import('node:module')
  const { existsSync } = (await builtin('fs')) as typeof import('node:fs')
  const { dirname, join } = (await builtin('path')) as typeof import('node:path')
  const proc = globalThis as unknown as { process: { platform: string; arch: string } }
  const entry = createRequire(import.meta.url).resolve(NATIVE_MODULE)
  const bin = join(dirname(entry), '..', 'bin', 'napi-v6', proc.process.platform, proc.process.arch)
  return existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))
}

const verdicts = new Map<Backend, Promise<string | undefined>>()

/** Throws `BackendUnavailableError` (naming the backends that work) unless `backend` can start. */
export async function ensureBackend(backend: Backend): Promise<void> {
  const reason = await whyNotCached(backend)
  if (reason !== undefined)
    throw new BackendUnavailableError(backend, reason, await availableBackends())
}

/** The backends that pass their start checks here (cuda is confirmed only by a session). */
export async function availableBackends(): Promise<Backend[]> {
  const all = Object.keys(BACKENDS) as Backend[]
  const ok = await Promise.all(all.map(async (b) => (await whyNotCached(b)) === undefined))
  return all.filter((_, k) => ok[k])
}

function whyNotCached(b: Backend): Promise<string | undefined> {
  let v = verdicts.get(b)
  if (!v) verdicts.set(b, (v = whyNot(b)))
  return v
}

const loaded = new Map<Backend, Promise<typeof Ort>>()

/** Loads (once) the runtime module for `backend` and applies its settings. */
export function loadOrt(opts: OrtOptions = {}): Promise<typeof Ort> {
  const backend = opts.backend ?? 'wasm'
  let mod = loaded.get(backend)
  if (!mod) {
    const load =
      backend === 'webgpu'
        ? import('onnxruntime-web/webgpu')
        : backend === 'wasm'
          ? import('onnxruntime-web')
          : // same InferenceSession/Tensor API (onnxruntime-common); env.wasm is unused there
            (import(/* @vite-ignore */ NATIVE_MODULE) as Promise<typeof Ort>)
    mod = load.then((ort) => {
      if (backend === 'wasm' || backend === 'webgpu') {
        ort.env.wasm.numThreads = opts.threads ?? 1
        if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths
      }
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
  await ensureBackend(backend)
  const ort = await loadOrt(opts)
  const native = backend === 'cpu' || backend === 'cuda'
  let session: Ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [...BACKENDS[backend].providers],
      graphOptimizationLevel: 'all',
      ...(native ? { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1 } : {}),
    })
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]
    // a provider that loads but cannot run (no CUDA libraries, no device) is the backend's fault
    if (backend === 'cuda')
      throw new BackendUnavailableError(
        backend,
        message,
        (await availableBackends()).filter((b) => b !== 'cuda'),
      )
    throw new ModelError(`${label}: cannot create a ${backend} session: ${message}`)
  }
  const missing = inputs.filter((s) => !session.inputNames.includes(s.name)).map((s) => s.name)
  if (missing.length > 0) {
    throw new ModelError(
      `${label}: graph inputs are [${session.inputNames}], manifest expects [${inputs.map((s) => s.name)}]`,
    )
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
    if (!ok)
      throw new ModelError(
        `${label}: input '${spec.name}' has shape [${f.dims.join(', ')}], expected ${expected}`,
      )
    ortFeeds[spec.name] = new ort.Tensor(spec.dtype, f.data, f.dims)
  }
  let out: Ort.InferenceSession.ReturnType
  try {
    out = await session.run(ortFeeds)
  } catch (e) {
    const described = Object.entries(feeds).map(
      ([n, f]) => `${n}: ${f.data.constructor.name}[${f.dims}]`,
    )
    throw new ModelError(
      `${label}: run failed (${(e as Error).message}); inputs ${described.join(', ')}`,
    )
  }
  const result: Record<string, { data: Float32Array; dims: number[] }> = {}
  for (const [name, t] of Object.entries(out)) {
    result[name] = { data: (await t.getData()) as Float32Array, dims: [...t.dims] }
    t.dispose()
  }
  return result
}
