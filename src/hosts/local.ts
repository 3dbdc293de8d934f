/**
 * What the Node and Deno hosts share: the in-process app (models on onnxruntime, schedules
 * from files), configured from the environment, which `parseHostEnv` (src/api/env.ts)
 * validates as a whole before anything loads:
 *   HOST, PORT, MODELS (comma list, default both bundled models), MODELS_DIR, SCHEDULES_DIR, BACKEND,
 *   ORT_THREADS, WARMUP, API_TOKEN, MAX_BATCH (items per sampler run), BATCH_WINDOW_MS,
 *   MAX_QUEUED, TIMEOUT_MS, CORS_ORIGINS (comma list of origins or *; no CORS when unset).
 * The app answers at once; generate and /readyz wait for the models to load and warm up.
 * The playground and /docs are served from public/ (built by `npm run build:web`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { env, exit, stderr } from 'node:process'
import { fileURLToPath } from 'node:url'
import { EnvError, limitsFromEnv, parseHostEnv, type HostEnv } from '../api/env.ts'
import { createApp, type App } from '../api/index.ts'
import { localGenerate } from '../api/local.ts'
import { warmingBackend } from '../api/warming.ts'
import { loadEngine, verifySchedules } from '../runtime/engine.ts'
import { checkBackend, ModelError } from '../runtime/ort.ts'
import { fileScheduleStore } from '../runtime/schedule-files.ts'
import { fileAssets, type ServeStatic } from './files.ts'

/** The runnable models this repository ships; `MODELS` narrows (or extends) the list. */
const DEFAULT_MODELS = ['tiny-dit-mnist', 'tiny-dit-fashion']
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Configuration and model errors (a backend that cannot start included) end the process with one line and exit code 2. */
export function fail(err: unknown): never {
  if (!(err instanceof EnvError || err instanceof ModelError)) throw err
  stderr.write(`dpcache-edge: ${err.message}\n`)
  exit(2)
}

/** The validated environment; on a bad variable prints one line and exits 2. */
export function hostEnv(): HostEnv {
  try {
    return parseHostEnv(env)
  } catch (err) {
    fail(err)
  }
}

export interface LocalHost {
  app: App
  /** Resolves when models are loaded and warm; rejects with why they never will be. */
  ready: Promise<void>
}

/**
 * Builds the app at once and starts loading and warming the models behind it. `serveStatic`
 * is the runtime's own (@hono/node-server or hono/deno): it serves the page.
 */
export function localHost(cfg: HostEnv, serveStatic: ServeStatic): LocalHost {
  const dirs = {
    public: join(ROOT, 'public'),
    models: cfg.MODELS_DIR ?? join(ROOT, 'models'),
    schedules: cfg.SCHEDULES_DIR ?? join(ROOT, 'schedules'),
  }
  const schedules = fileScheduleStore(dirs.schedules)
  const limits = limitsFromEnv(cfg)
  const warming = warmingBackend(async (progress) => {
    const engine = await loadEngine({
      modelsDir: dirs.models,
      modelIds: cfg.MODELS ?? DEFAULT_MODELS,
      readFile: async (path) => new Uint8Array(await readFile(path)),
      backend: checkBackend(cfg.BACKEND ?? 'wasm'),
      threads: cfg.ORT_THREADS,
    })
    await verifySchedules(engine.models(), schedules)
    const generate = localGenerate(engine, schedules, {
      maxBatch: limits.maxBatch,
      windowMs: cfg.BATCH_WINDOW_MS,
      maxQueued: cfg.MAX_QUEUED,
      timeoutMs: cfg.TIMEOUT_MS,
    })
    if ((cfg.WARMUP ?? 'all') === 'all')
      await engine.warm(generate.maxBatch, (done, total) => progress(done / total))
    return generate
  })
  const assets = fileAssets(serveStatic, dirs)
  const app = createApp({
    schedules,
    generate: warming.backend,
    apiToken: cfg.API_TOKEN,
    limits,
    cors: cfg.CORS_ORIGINS,
    assets,
  })
  return { app, ready: warming.ready }
}

/** HOST, default 127.0.0.1 (0.0.0.0 in the container); PORT, default 8787 (0: a free port). */
export const listenOn = (cfg: HostEnv) => ({
  hostname: cfg.HOST ?? '127.0.0.1',
  port: cfg.PORT ?? 8787,
})
