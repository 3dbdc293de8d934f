/**
 * `npm start`: the API on Node (HOST 127.0.0.1 by default: put a proxy in front to expose it).
 * It listens at once; /readyz turns 200 when the models are loaded and warm. A backend that
 * cannot start here, or a bad variable, ends the process with exit code 2 and one line.
 * See local.ts for the environment.
 */
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { fail, hostEnv, listenOn, localHost } from './local.ts'

const cfg = hostEnv()
const { app, ready } = localHost(cfg, serveStatic)
ready.then(() => console.log('dpcache-edge ready'), fail)
const { hostname, port } = listenOn(cfg)
const server = serve({ fetch: app.fetch, hostname, port }, (info) => {
  console.log(`dpcache-edge listening on http://${hostname}:${info.port}`)
}) as Server

// Requests Node rejects before they reach the app (a malformed request line, headers past
// its limit) get the same JSON envelope as everything else, then the connection closes.
server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
  if (!socket.writable) return socket.destroy()
  const big = err.code === 'HPE_HEADER_OVERFLOW'
  const [status, code] = big ? [431, 'headers_too_large'] : [400, 'bad_request']
  const body = JSON.stringify({
    error: { code, message: big ? 'request headers too large' : 'malformed HTTP request' },
  })
  const reason = big ? 'Request Header Fields Too Large' : 'Bad Request'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
