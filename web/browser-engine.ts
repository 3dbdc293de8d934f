/**
 * The sampler in the browser: the same engine the Node and Deno hosts run (src/runtime/engine.ts
 * over src/core), with onnxruntime-web's WebGPU backend where the browser offers an adapter and
 * wasm otherwise. Model graphs and schedules are fetched from this host as static files; every
 * graph is checked against the manifest's sha256 (WebCrypto) before a session is made.
 */
import type { ScheduleStore } from '../src/core/schedule.ts'
import {
  createEngine,
  loadModel,
  resolveRequest,
  verifySchedules,
  type Engine,
  type GenerateOutput,
} from '../src/runtime/engine.ts'
import type { Backend } from '../src/runtime/ort.ts'
import { readerScheduleStore } from '../src/runtime/schedule-store.ts'

/** The host serves onnxruntime's .wasm here (copied by the build; no CDN). */
export const WASM_PATH = '/static/ort/'
/** The WebGPU build's runtime; a Worker cannot serve it (over the 25 MiB asset limit). */
const WEBGPU_WASM = `${WASM_PATH}ort-wasm-simd-threaded.asyncify.wasm`

export type BackendChoice = 'auto' | Backend

export interface BackendPick {
  backend: Backend
  /** Why this backend: shown on the page and read by the browser tests. */
  reason: string
}

async function read(path: string): Promise<Uint8Array> {
  const res = await fetch(path)
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`)
  return new Uint8Array(await res.arrayBuffer())
}

/** WebGPU when asked for (or on auto) and both the browser and this host can do it. */
export async function pickBackend(choice: BackendChoice): Promise<BackendPick> {
  if (choice === 'wasm') return { backend: 'wasm', reason: 'wasm (chosen)' }
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu
  let why: string | undefined
  if (!gpu) why = 'this browser has no navigator.gpu'
  else if (!(await gpu.requestAdapter().catch(() => null))) why = 'no WebGPU adapter'
  else if (!(await fetch(WEBGPU_WASM, { method: 'HEAD' })).ok) {
    why = 'this host does not serve the WebGPU runtime'
  }
  if (why && choice === 'webgpu') throw new Error(`WebGPU unavailable: ${why}`)
  return why
    ? { backend: 'wasm', reason: `wasm (${why})` }
    : { backend: 'webgpu', reason: 'webgpu (adapter found)' }
}

export interface BrowserEngine {
  engine: Engine
  store: ScheduleStore
}

/**
 * Loads one model for in-browser sampling; schedules come from /schedules/ and are checked
 * against the model at load, as the Node and Deno hosts do at boot.
 */
export async function loadBrowserEngine(model: string, backend: Backend): Promise<BrowserEngine> {
  const loaded = await loadModel(`/models/${model}`, read, {
    backend,
    threads: 1,
    wasmPaths: WASM_PATH,
  })
  const store = readerScheduleStore(async (path) => {
    const res = await fetch(`/schedules/${path}`)
    if (res.status === 404) return undefined
    if (!res.ok) throw new Error(`GET /schedules/${path}: HTTP ${res.status}`)
    return res.text()
  })
  const engine = createEngine(new Map([[model, loaded]]))
  await verifySchedules(engine.models(), store)
  return { engine, store }
}

export interface BrowserRequest {
  model: string
  steps: number
  budget: number
  guidance: number
  class: number
  seed: number
}

/** One image, resolved with the server's plan resolver and run by the server's engine code. */
export async function generateInBrowser(
  b: BrowserEngine,
  req: BrowserRequest,
): Promise<GenerateOutput> {
  const info = b.engine.models().find((m) => m.id === req.model)!
  const plan = await resolveRequest(info, b.store, { steps: req.steps, budget: req.budget })
  return b.engine.generate({
    plan,
    guidance: req.guidance,
    items: [{ class: req.class, seed: req.seed }],
  })
}
