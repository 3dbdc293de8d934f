/**
 * `npm start`: the API on Node, bound to 127.0.0.1 (put a proxy in front to expose it), with
 * the demo model on onnxruntime-web's wasm backend. See local.ts for the environment.
 */
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { hostEnv, localApp, port } from './local.ts'

const cfg = hostEnv()
const app = await localApp(cfg, serveStatic)
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: port(cfg) }, (info) => {
  console.log(`dpcache-edge listening on http://127.0.0.1:${info.port}`)
}) as Server

// Requests Node rejects before they reach the app (a malformed request line, headers past
// its limit) get the same JSON envelope as everything else, then the connection closes.
server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
  if (!socket.writable) return socket.destroy()
  const big = err.code === 'HPE_HEADER_OVERFLOW'
  const [status, code] = big ? [431, 'headers_too_large'] : [400, 'bad_request']
  const body = JSON.stringify({ error: { code, message: big ? 'request headers too large' : 'malformed HTTP request' } })
  const reason = big ? 'Request Header Fields Too Large' : 'Bad Request'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
