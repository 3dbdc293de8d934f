/**
 * `npm start`: the API on Node, bound to 127.0.0.1 (put a proxy in front to expose it), with
 * the demo model on onnxruntime-web's wasm backend. See local.ts for the environment.
 */
import { serve } from '@hono/node-server'
import { hostEnv, localApp, port } from './local.ts'

const cfg = hostEnv()
const app = await localApp(cfg)
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: port(cfg) }, (info) => {
  console.log(`dpcache-edge listening on http://127.0.0.1:${info.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
