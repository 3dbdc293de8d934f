/**
 * What the Node and Deno hosts share: the in-process app (demo model on onnxruntime-web,
 * schedules from files), configured from the environment:
 *   MODELS (comma list, default tiny-dit-mnist), MODELS_DIR, SCHEDULES_DIR, BACKEND (wasm |
 *   webgpu), ORT_THREADS, API_TOKEN, MAX_BATCH (items per sampler run), BATCH_WINDOW_MS,
 *   MAX_QUEUED, TIMEOUT_MS.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { env } from 'node:process'
import { fileURLToPath } from 'node:url'
import type { Hono } from 'hono'
import { createApp } from '../api/index.ts'
import { localGenerate } from '../api/local.ts'
import { loadEngine } from '../runtime/engine.ts'
import { checkBackend } from '../runtime/ort.ts'
import { fileScheduleStore } from '../runtime/schedule-files.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const num = (name: string) => (env[name] === undefined ? undefined : Number(env[name]))

/** Loads the engine and builds the app; resolves once the models are ready to serve. */
export async function localApp(): Promise<Hono> {
  const schedules = fileScheduleStore(env.SCHEDULES_DIR ?? join(ROOT, 'schedules'))
  const engine = await loadEngine({
    modelsDir: env.MODELS_DIR ?? join(ROOT, 'models'),
    modelIds: (env.MODELS ?? 'tiny-dit-mnist').split(','),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    store: schedules,
    backend: checkBackend(env.BACKEND ?? 'wasm'),
    threads: num('ORT_THREADS'),
  })
  const generate = localGenerate(engine, schedules, {
    maxBatch: num('MAX_BATCH'),
    windowMs: num('BATCH_WINDOW_MS'),
    maxQueued: num('MAX_QUEUED'),
    timeoutMs: num('TIMEOUT_MS'),
  })
  return createApp({ schedules, generate, apiToken: env.API_TOKEN || undefined })
}

/** PORT, default 8787; 0 picks a free port (the server prints the one it got). */
export const port = (): number => num('PORT') ?? 8787
