/**
 * Deno smoke test of the same app: routes through `app.request`, then the Deno host itself
 * (src/hosts/deno.ts, Deno.serve) over HTTP with the real demo model on wasm. npm packages
 * resolve from node_modules (deno.json: nodeModulesDir manual); nothing is fetched.
 */
import { join } from 'node:path'
import { createApp } from '../../src/api/index.ts'
import { ApiClientError, createClient } from '../../src/client/index.ts'
import { fileScheduleStore } from '../../src/runtime/schedule-files.ts'

const MODEL = 'tiny-dit-mnist'
const ROOT = join(import.meta.dirname!, '..', '..')
const dir = join(ROOT, 'schedules')

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message)
}

Deno.test('app.request: schedules, 304, error envelope, 503 without a backend', async () => {
  const app = createApp({ schedules: fileScheduleStore(dir) })
  const res = await app.request(`/v1/schedules/${MODEL}/50?budget=10`)
  assert(res.status === 200, `status ${res.status}`)
  const body = await res.json()
  assert(body.plan.budget === 10 && body.plan.keySteps.length === 10, JSON.stringify(body))
  const again = await app.request(`/v1/schedules/${MODEL}/50?budget=10`, {
    headers: { 'If-None-Match': res.headers.get('etag')! },
  })
  assert(again.status === 304, `conditional status ${again.status}`)
  const missing = await (await app.request('/v1/schedules/..%2F..%2Fetc/50')).json()
  assert(
    missing.error.code === 'unknown_model' && missing.error.allowed.includes(MODEL),
    JSON.stringify(missing),
  )
  const gen = await app.request('/v1/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  assert(gen.status === 503, `generate status ${gen.status}`)
})

Deno.test({
  name: 'Deno host over HTTP: JSON NFE equals the budget, PNG grid for a batch, /, /docs, CORS',
  // onnxruntime-web keeps its wasm instance alive for the process
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        'run',
        '--no-remote',
        '--allow-read',
        '--allow-env',
        '--allow-net=127.0.0.1',
        join(ROOT, 'src', 'hosts', 'deno.ts'),
      ],
      env: { PORT: '0', CORS_ORIGINS: 'https://app.example' },
      stdout: 'piped',
      stderr: 'inherit',
    }).spawn()
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
      let log = ''
      let m: RegExpExecArray | null = null
      while (!m || !/dpcache-edge ready/.test(log)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`deno host exited:\n${log}`)
        log += value
        m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
      }
      reader.releaseLock()
      const base = m[1]
      const post = (body: unknown) =>
        fetch(`${base}/v1/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const out = await (
        await post({ model: MODEL, class: 4, seed: 1, steps: 50, budget: 10, format: 'json' })
      ).json()
      assert(
        out.nfe === 10 && out.budget === 10 && out.images.length === 1,
        JSON.stringify(out).slice(0, 300),
      )
      const png = await post({ model: MODEL, class: 4, seed: 1, steps: 50, budget: 10, batch: 4 })
      assert(
        png.headers.get('content-type') === 'image/png' && png.headers.get('x-grid') === '2x2',
        `png ${png.status}`,
      )
      const bytes = new Uint8Array(await png.arrayBuffer())
      // IHDR: width and height at bytes 16..23
      const view = new DataView(bytes.buffer)
      assert(
        view.getUint32(16) === 56 && view.getUint32(20) === 56,
        `size ${view.getUint32(16)}x${view.getUint32(20)}`,
      )
      // the Host header must not rewrite the routed path (Deno builds request.url from it)
      const raw = async (request: string) => {
        const conn = await Deno.connect({ hostname: '127.0.0.1', port: Number(new URL(base).port) })
        await conn.write(new TextEncoder().encode(request))
        const answer = await new Response(conn.readable).text()
        return answer
      }
      const body = JSON.stringify({ model: MODEL, class: 1, seed: 1 })
      const forged = await raw(
        `POST /public/x HTTP/1.1\r\nHost: x/v1/generate#\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
      assert(
        /^HTTP\/1\.1 400 /.test(forged) && forged.includes('invalid Host header'),
        forged.slice(0, 300),
      )
      const plain = await raw(
        `POST /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
      assert(/^HTTP\/1\.1 404 /.test(plain) && !plain.includes('image/png'), plain.slice(0, 300))
      // the playground and /docs through hono/deno's serve-static (public/ from npm run build:web)
      const page = await fetch(`${base}/`)
      const html = await page.text()
      assert(page.status === 200 && html.includes('DPCache playground'), `/ ${page.status}`)
      for (const [, src] of html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) {
        const res = await fetch(base + src)
        await res.body?.cancel()
        assert(res.status === 200, `${src} ${res.status}`)
      }
      // the typed client works on Deno too
      const api = createClient({ baseUrl: base })
      const listed = (await api.models()).models.map((m) => m.id)
      assert(listed.includes(MODEL), `client models: ${listed}`)
      const plan = await api.schedule(MODEL, 50, { budget: 10 })
      assert(plan.plan.keySteps.length === 10, 'client schedule')
      const refused = await api.schedule('nope', 50).catch((e: unknown) => e)
      assert(
        refused instanceof ApiClientError &&
          refused.status === 404 &&
          refused.code === 'unknown_model',
        `client error: ${refused}`,
      )
      const docs = await fetch(`${base}/docs`)
      assert(docs.status === 200 && (await docs.text()).includes("url: '/openapi.json'"), 'docs')
      const graph = await fetch(`${base}/models/${MODEL}/head.onnx`)
      assert(graph.status === 200 && (await graph.arrayBuffer()).byteLength > 1000, 'head.onnx')
      for (const path of [
        '/static/..%2F..%2Fdeno.json',
        '/models/..%2F..%2Fdeno.json',
        '/deno.json',
      ]) {
        const res = await fetch(base + path)
        assert(res.status === 404, `${path} answered ${res.status}`)
        await res.body?.cancel()
      }
      const pre = await fetch(`${base}/v1/generate`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
      })
      await pre.body?.cancel()
      assert(
        pre.status === 204 &&
          pre.headers.get('access-control-allow-origin') === 'https://app.example' &&
          (pre.headers.get('access-control-allow-methods') ?? '').includes('POST'),
        `preflight ${pre.status}`,
      )
    } finally {
      child.kill('SIGTERM')
      await child.status
      await child.stdout.cancel().catch(() => {})
    }
  },
})
