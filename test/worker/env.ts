/** Types for the Worker tests: the bindings in wrangler.toml and the main module's exports. */
import type { Env as WorkerEnv } from '../../src/hosts/worker.ts'

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import('../../src/hosts/worker.ts')
    }
  }
}

/** A request as the Workers runtime hands it to `fetch` (the cf properties do not matter here). */
export const incoming = (url: string, init?: RequestInit) =>
  new Request(url, init) as Request<unknown, IncomingRequestCfProperties>
