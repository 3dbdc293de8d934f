/**
 * Cloudflare Workers host. Schedules are static assets (`[assets]` in wrangler.toml, read via
 * the ASSETS binding); generation goes to a GPU backend running the Node host, through the
 * GENERATE service binding or GENERATE_URL, because workerd cannot compile onnxruntime's
 * wasm at run time. With neither, generate answers 503 and says so.
 */
import type { Hono } from 'hono'
import { createApp } from '../api/index.ts'
import { proxyGenerate } from '../api/proxy.ts'
import { readerScheduleStore } from '../runtime/schedule-store.ts'

export interface Env {
  ASSETS: Fetcher
  GENERATE?: Fetcher
  /** The backend's generate endpoint, e.g. https://gpu.example.com/v1/generate. */
  GENERATE_URL?: string
  API_TOKEN?: string
}

// one app per isolate and env, so parsed schedules and ETags are reused across requests
const apps = new WeakMap<Env, Hono>()

function appFor(env: Env): Hono {
  let app = apps.get(env)
  if (!app) {
    const schedules = readerScheduleStore(async (path) => {
      const res = await env.ASSETS.fetch(new Request(`https://assets.local/${path}`))
      if (res.status === 404) return undefined
      if (!res.ok) throw new Error(`ASSETS answered ${res.status} for ${path}`)
      return res.text()
    })
    const generate = env.GENERATE
      ? proxyGenerate((req) => env.GENERATE!.fetch(req))
      : env.GENERATE_URL
        ? proxyGenerate((req) => fetch(req), env.GENERATE_URL)
        : undefined
    app = createApp({ schedules, generate, apiToken: env.API_TOKEN || undefined })
    apps.set(env, app)
  }
  return app
}

export default {
  fetch: (request, env, ctx) => appFor(env).fetch(request, env, ctx),
} satisfies ExportedHandler<Env>
