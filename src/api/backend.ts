/**
 * Where POST /v1/generate is served. The route checks auth, size and shape for every host;
 * a backend answers the valid request: in-process (`local.ts`, Node and Deno) or by
 * forwarding it to a GPU host (`proxy.ts`, Workers, where onnxruntime's wasm cannot be
 * compiled at run time).
 */
import type { Context } from 'hono'
import type { ModelInfo } from '../runtime/engine.ts'
import type { HostHealth } from './pool.ts'
import type { GenerateRequest } from './schemas.ts'

export interface GenerateBackend {
  readonly kind: 'local' | 'remote'
  /** Models this backend runs itself (none for a proxy: it cannot know without asking). */
  models(): ModelInfo[]
  /** Answers a request that passed the schema. */
  handle(req: GenerateRequest, c: Context): Promise<Response>
  /** Queue depth, for /healthz. */
  stats?(): { queued: number; running: number }
  /** False while models load and warm up (GET /readyz answers 503); absent means always ready. */
  ready?(): boolean
  /** The hosts a proxy forwards to and their health, for /healthz. */
  hosts?(): HostHealth[]
}
