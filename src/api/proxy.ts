/**
 * A generate backend that forwards to a pool of hosts running this app with an engine (GPU
 * machines), through Workers service bindings or plain `fetch` to URLs.
 *
 * Life of a request:
 *   rank the hosts for its run group (pool.ts), healthy ones first
 *   -> send it to the first; each attempt is a new Request (a body can be read only once)
 *   -> 2xx, or a 4xx other than 429: that is the answer (the client's mistake is the same on
 *      every host)
 *   -> no connection, or 5xx: cool that host down and try the next
 *   -> 429: that host is busy, not broken; try the next without cooling it down
 *   -> hosts exhausted: 429 when one was busy, else 503, with the smallest Retry-After given
 * The client's abort and the edge's deadline abort the attempt in flight, and with it the run
 * on the host. The client's Authorization header goes along, so both ends can share one
 * API_TOKEN. A request without a seed gets one here, so a retry draws the same images.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ScheduleStore } from '../core/schedule.ts'
import type { GenerateBackend } from './backend.ts'
import { ApiError } from './errors.ts'
import { HostPool, runKey, type PoolHost } from './pool.ts'
import type { GenerateRequest } from './schemas.ts'

export type { Dispatch, PoolHost } from './pool.ts'

export interface ProxyOptions {
  /** How long a failed host is tried only after the others. Default 10 s. */
  cooldownMs?: number
  /** The request's deadline at the edge, over all attempts. Default 30 s. */
  timeoutMs?: number
  /** Where a speedup's budget is looked up, so it ranks hosts like that budget. */
  schedules?: ScheduleStore
  now?: () => number
}

/** Retry-After in whole seconds (delta or HTTP date); undefined when absent or unreadable. */
function retryAfter(res: Response, now: number): number | undefined {
  const v = res.headers.get('retry-after')?.trim()
  if (!v) return undefined
  if (/^\d+$/.test(v)) return Number(v)
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

const min = (xs: number[]) => (xs.length ? Math.min(...xs) : undefined)
const tried = (notes: string[]) => (notes.length ? ` (${notes.join('; ')})` : '')

/** The generate backend of a host with no engine: `hosts` answer for it (at least one). */
export function proxyGenerate(
  hosts: readonly PoolHost[],
  opts: ProxyOptions = {},
): GenerateBackend {
  if (hosts.length === 0) throw new Error('proxyGenerate needs at least one host')
  const now = opts.now ?? Date.now
  const timeoutMs = opts.timeoutMs ?? 30_000
  const pool = new HostPool(hosts, { cooldownMs: opts.cooldownMs ?? 10_000, now })
  /** The schedule a speedup is chosen from, when the request names its steps. */
  const scheduleFor = async (req: GenerateRequest) =>
    req.speedup !== undefined && req.steps !== undefined && opts.schedules
      ? await opts.schedules.get(req.model, req.steps).catch(() => undefined)
      : undefined
  return {
    kind: 'remote',
    models: () => [],
    hosts: () => pool.health(),
    async handle(req, c) {
      const body = JSON.stringify({ ...req, seed: req.seed ?? Math.floor(Math.random() * 2 ** 31) })
      const headers = new Headers({ 'content-type': 'application/json' })
      const auth = c.req.header('authorization')
      if (auth) headers.set('authorization', auth)

      // one signal for the attempt in flight: the client left, or the deadline passed
      const client = c.req.raw.signal
      const attempt = new AbortController()
      let late = false
      const deadline = setTimeout(() => {
        late = true
        attempt.abort(new Error(`deadline of ${timeoutMs} ms passed`))
      }, timeoutMs)
      const onClientAbort = () => attempt.abort(client.reason)
      if (client.aborted) onClientAbort()
      else client.addEventListener('abort', onClientAbort, { once: true })

      const busy: number[] = [] // Retry-After of hosts that answered 429
      const down: number[] = [] // Retry-After of hosts that answered 5xx
      const notes: string[] = []
      let tries = 0
      try {
        for (const host of pool.order(runKey(req, await scheduleFor(req)))) {
          if (attempt.signal.aborted) break
          tries++
          let res: Response
          try {
            const request = new Request(host.url, {
              method: 'POST',
              headers,
              body,
              signal: attempt.signal,
            })
            res = await host.dispatch(request)
          } catch (err) {
            if (attempt.signal.aborted) break
            const reason = `no answer: ${err instanceof Error ? err.message : String(err)}`
            pool.failed(host, reason)
            notes.push(`${host.name}: ${reason}`)
            continue
          }
          if (res.status === 429 || res.status >= 500) {
            const after = retryAfter(res, now())
            await res.body?.cancel()
            if (res.status === 429) {
              busy.push(after ?? 1)
              notes.push(`${host.name}: busy`)
            } else {
              if (after !== undefined) down.push(after)
              pool.failed(host, `answered ${res.status}`)
              notes.push(`${host.name}: answered ${res.status}`)
            }
            continue
          }
          pool.succeeded(host)
          const out = new Response(res.body, res)
          if (out.headers.has('content-encoding')) {
            // fetch hands over the body decoded: its encoding headers no longer describe it
            out.headers.delete('content-encoding')
            out.headers.delete('content-length')
          }
          // which host answered, as /healthz names it, and how many were tried
          out.headers.set('X-Pool-Host', host.name)
          out.headers.set('X-Pool-Attempts', String(tries))
          return out
        }
      } finally {
        clearTimeout(deadline)
        client.removeEventListener('abort', onClientAbort)
      }

      if (client.aborted) {
        throw new ApiError(499 as ContentfulStatusCode, {
          code: 'client_closed',
          message: 'the client went away',
        })
      }
      if (late) {
        throw new ApiError(504, {
          code: 'timeout',
          message: `no generate host answered within ${timeoutMs} ms${tried(notes)}`,
        })
      }
      if (busy.length) {
        throw new ApiError(
          429,
          { code: 'queue_full', message: `every generate host is busy${tried(notes)}` },
          { 'Retry-After': String(min(busy)) },
        )
      }
      const wait = min(down) ?? Math.max(1, Math.ceil(pool.nextBackInMs() / 1000))
      throw new ApiError(
        503,
        {
          code: 'backend_unavailable',
          message: `no generate host could answer${tried(notes)}`,
        },
        { 'Retry-After': String(wait) },
      )
    },
  }
}
