/**
 * The Worker's pool of generate hosts, from its bindings and its parsed variables (env.ts):
 *   GENERATE, GENERATE_2, GENERATE_3, ...  service bindings (GENERATE_<n>, n = 1, 2, ...)
 *   GENERATE_URLS     comma-separated endpoints, e.g. https://gpu-1.example.com/v1/generate
 *   GENERATE_URL      one endpoint (the single-host name, kept as an alias)
 *   POOL_COOLDOWN_MS  how long a failed host is tried only after the others (default 10000)
 *   POOL_TIMEOUT_MS   a generate request's deadline at the edge, over all attempts (default 30000)
 * Bindings and URLs may be mixed; bindings come first, then URLs in the order listed; an
 * endpoint listed twice is one host.
 */
import type { HostEnv } from './env.ts'
import type { PoolHost } from './pool.ts'
import type { ProxyOptions } from './proxy.ts'

type Fetcher = { fetch(request: Request): Promise<Response> }
const isFetcher = (v: unknown): v is Fetcher =>
  typeof v === 'object' && v !== null && typeof (v as Fetcher).fetch === 'function'

const BINDING = /^GENERATE(?:_([1-9]\d*))?$/

/** The endpoint as /healthz and X-Pool-Host show it: no credentials, no query. */
function displayName(url: URL): string {
  return `${url.origin}${url.pathname}`
}

/** `bindings` is the Worker's env as given (service bindings are objects, not variables). */
export function poolFromEnv(
  bindings: Readonly<Record<string, unknown>>,
  env: HostEnv,
): { hosts: PoolHost[]; options: ProxyOptions } {
  const hosts: PoolHost[] = Object.keys(bindings)
    .map((name) => ({ name, m: BINDING.exec(name) }))
    .filter(({ name, m }) => m && isFetcher(bindings[name]))
    .sort((a, b) => Number(a.m![1] ?? 1) - Number(b.m![1] ?? 1))
    .map(({ name }) => {
      const fetcher = bindings[name] as Fetcher
      return {
        name,
        url: `https://${name.toLowerCase()}.internal/v1/generate`,
        dispatch: (request: Request) => fetcher.fetch(request),
      }
    })
  const seen = new Set<string>()
  for (const raw of [
    ...(env.GENERATE_URLS ?? []),
    ...(env.GENERATE_URL ? [env.GENERATE_URL] : []),
  ]) {
    const url = new URL(raw) // env.ts checked it parses
    const name = displayName(url)
    if (seen.has(name)) continue
    seen.add(name)
    hosts.push({ name, url: url.href, dispatch: (request) => fetch(request) })
  }
  return {
    hosts,
    options: { cooldownMs: env.POOL_COOLDOWN_MS, timeoutMs: env.POOL_TIMEOUT_MS },
  }
}
