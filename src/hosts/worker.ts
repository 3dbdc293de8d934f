/**
 * Cloudflare Workers host. Schedules are static assets (`[assets]` in wrangler.toml, read via
 * the ASSETS binding); generation goes to a GPU backend running the Node host, through the
 * GENERATE service binding or GENERATE_URL, because workerd cannot compile onnxruntime's
 * wasm at run time. With neither, generate answers 503 and says so.
 */
import { Hono } from 'hono'
import { EnvError, limitsFromEnv, parseHostEnv } from '../api/env.ts'
import { createApp, type App, type AssetServer } from '../api/index.ts'
import { proxyGenerate } from '../api/proxy.ts'
import { readerScheduleStore } from '../runtime/schedule-store.ts'

export interface Env {
  ASSETS: Fetcher
  GENERATE?: Fetcher
  /** The backend's generate endpoint, e.g. https://gpu.example.com/v1/generate. */
  GENERATE_URL?: string
  API_TOKEN?: string
  /** Origins allowed to call the API from browsers: a comma list, or *. */
  CORS_ORIGINS?: string
}

// one app per isolate and env, so parsed schedules and ETags are reused across requests
/** What the Worker needs of an app: its fetch. */
type Served = Pick<App, 'fetch'>

const apps = new WeakMap<Env, Served>()

function appFor(env: Env): Served {
  let app = apps.get(env)
  if (!app) {
    app = configuredApp(env)
    apps.set(env, app)
  }
  return app
}

/** A Worker cannot exit on a bad variable: it answers 503 naming it, on every route. */
function configuredApp(env: Env): Served {
  let cfg
  try {
    cfg = parseHostEnv(env as unknown as Record<string, unknown>)
  } catch (err) {
    if (!(err instanceof EnvError)) throw err
    console.error(err.message)
    const error = { code: 'misconfigured', message: err.message, field: err.variable }
    return new Hono().all('*', (c) => c.json({ error }, 503))
  }
  const schedules = readerScheduleStore(async (path) => {
    const res = await env.ASSETS.fetch(new Request(`https://assets.local/schedules/${path}`))
    if (res.status === 404) return undefined
    if (!res.ok) throw new Error(`ASSETS answered ${res.status} for ${path}`)
    return res.text()
  })
  const generate = env.GENERATE
    ? proxyGenerate((req) => env.GENERATE!.fetch(req))
    : cfg.GENERATE_URL
      ? proxyGenerate((req) => fetch(req), cfg.GENERATE_URL)
      : undefined
  // the playground, /docs and model files: public/ as built by `npm run build:web`
  const assets: AssetServer = async (path) => {
    const res = await env.ASSETS.fetch(new Request(`https://assets.local${path}`))
    if (res.status !== 404) return res
    await res.body?.cancel()
    return undefined
  }
  const limits = limitsFromEnv(cfg)
  return createApp({ schedules, generate, apiToken: cfg.API_TOKEN, limits, cors: cfg.CORS_ORIGINS, assets })
}

export default {
  fetch: (request, env, ctx) => appFor(env).fetch(request, env, ctx),
} satisfies ExportedHandler<Env>
