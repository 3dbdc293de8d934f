/**
 * Cloudflare Workers host. Schedules are static assets (`[assets]` in wrangler.toml, read via
 * the ASSETS binding); generation goes to a pool of GPU hosts running the Node or Deno host
 * (service bindings GENERATE, GENERATE_2, ... and/or GENERATE_URLS; see api/pool-env.ts),
 * because workerd cannot compile onnxruntime's wasm at run time. With none, generate answers
 * 503 and says so.
 */
import { Hono } from 'hono'
import { EnvError, limitsFromEnv, parseHostEnv } from '../api/env.ts'
import { createApp, type App, type AssetServer } from '../api/index.ts'
import { poolFromEnv } from '../api/pool-env.ts'
import { proxyGenerate } from '../api/proxy.ts'
import { readerScheduleStore } from '../runtime/schedule-store.ts'

export interface Env {
  ASSETS: Fetcher
  /** Generate hosts bound as services: GENERATE, GENERATE_2, GENERATE_3, ... */
  GENERATE?: Fetcher
  [binding: `GENERATE_${number}`]: Fetcher | undefined
  /** Comma-separated generate endpoints, e.g. https://gpu-1.example.com/v1/generate. */
  GENERATE_URLS?: string
  /** One endpoint (the single-host name, an alias for a one-element GENERATE_URLS). */
  GENERATE_URL?: string
  POOL_COOLDOWN_MS?: string
  POOL_TIMEOUT_MS?: string
  API_TOKEN?: string
  /** Origins allowed to call the API from browsers: a comma list, or *. */
  CORS_ORIGINS?: string
}

/** What the Worker needs of an app: its fetch. */
type Served = Pick<App, 'fetch'>

// one app per isolate and env, so parsed schedules, ETags and host health are shared by requests
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
  const raw = env as unknown as Record<string, unknown>
  let cfg
  try {
    cfg = parseHostEnv(raw)
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
  const { hosts, options } = poolFromEnv(raw, cfg)
  const generate = hosts.length ? proxyGenerate(hosts, { ...options, schedules }) : undefined
  // the playground, /docs and model files: public/ as built by `npm run build:web`
  const assets: AssetServer = async (path) => {
    const res = await env.ASSETS.fetch(new Request(`https://assets.local${path}`))
    if (res.status !== 404) return res
    await res.body?.cancel()
    return undefined
  }
  const limits = limitsFromEnv(cfg)
  return createApp({
    schedules,
    generate,
    apiToken: cfg.API_TOKEN,
    limits,
    cors: cfg.CORS_ORIGINS,
    assets,
  })
}

/**
 * A body with Content-Encoding was compressed by the app (hono's compress); workerd encodes a
 * body itself whenever that header is set, so without `manual` clients got gzip inside gzip.
 */
function sentAsEncoded(res: Response): Response {
  if (!res.body || !res.headers.has('content-encoding')) return res
  const { status, statusText, headers } = res
  return new Response(res.body, { status, statusText, headers, encodeBody: 'manual' })
}

export default {
  fetch: async (request, env, ctx) => sentAsEncoded(await appFor(env).fetch(request, env, ctx)),
} satisfies ExportedHandler<Env>
