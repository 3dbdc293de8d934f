/**
 * CORS for the API, off unless a deployment names the origins it trusts (`CORS_ORIGINS`: a
 * comma list of origins, or `*`; parsed with the rest of the environment in env.ts). Browsers
 * may then call the API from other pages: preflights are answered with the methods and headers
 * the routes accept, and the result headers a client needs (Retry-After on 429, ETag, X-NFE
 * and the other X-* generate headers) are exposed to scripts.
 */
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'

/** `*` (any origin, no credentials) or the exact origins allowed; [] is off. */
export type CorsOrigins = '*' | readonly string[]

export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'] as const
export const CORS_REQUEST_HEADERS = ['Content-Type', 'Authorization', 'If-None-Match'] as const
/** Every response header a script may read: generate's X-* results and the caching headers. */
export const CORS_EXPOSED_HEADERS = [
  'Retry-After',
  'ETag',
  'Server-Timing',
  'WWW-Authenticate',
  'X-Model',
  'X-Steps',
  'X-Budget',
  'X-NFE',
  'X-Key-Steps',
  'X-Batch',
  'X-Seeds',
  'X-Grid',
] as const

/** True for a bare origin: scheme, host and optional port, nothing after. */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value
  } catch {
    return false
  }
}

/** What `CORS_ORIGINS` accepts, for the boot error and the docs. */
export const CORS_ORIGINS_ALLOWED =
  '* or a comma-separated list of origins (scheme://host[:port], no path); empty for no CORS'

/**
 * Parses `CORS_ORIGINS`: `*` -> any origin, `https://a.example, http://127.0.0.1:5173` -> those
 * origins, empty -> [] (no CORS). Undefined when any item is not a bare http(s) origin.
 */
export function parseCorsOrigins(raw: string): CorsOrigins | undefined {
  const items = raw.split(/[\s,]+/).filter(Boolean)
  if (items.length === 1 && items[0] === '*') return '*'
  return items.every(isOrigin) ? items : undefined
}

/** The CORS middleware for these origins; preflights are answered before any route runs. */
export function corsFor(origins: CorsOrigins): MiddlewareHandler {
  return cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: [...CORS_METHODS],
    allowHeaders: [...CORS_REQUEST_HEADERS],
    exposeHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: 600,
  })
}
