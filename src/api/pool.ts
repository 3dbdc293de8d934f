/**
 * A pool of generate hosts: which host a request tries first, and which hosts are cooling
 * down after a failure. No I/O here; `proxy.ts` sends the requests.
 *
 * Routing is rendezvous (highest-random-weight) hashing on the run group, (model, steps,
 * budget, guidance): every edge isolate ranks the hosts the same way for a group without
 * talking to the others, so requests that can share one sampler run meet on one host and
 * micro-batch there. Removing a host moves only the groups it ranked first for; each of them
 * falls to its own second choice, so the load of a dead host spreads instead of piling on
 * one neighbour.
 */
import { choosePlan } from '../core/resolve.ts'
import type { Schedule } from '../core/schedule.ts'
import type { GenerateRequest } from './schemas.ts'

/** Sends one request to a host: a service binding's fetch, or global fetch. */
export type Dispatch = (request: Request) => Promise<Response>

export interface PoolHost {
  /** How /healthz names it (the binding name, or the URL without credentials or query). */
  readonly name: string
  /** Where the request is addressed (a service binding only reads the path). */
  readonly url: string
  readonly dispatch: Dispatch
}

export interface HostHealth {
  name: string
  state: 'healthy' | 'cooling'
  /** ISO time the cool-down ends, while cooling. */
  coolingUntil?: string
  /** Failures since the last success. */
  consecutiveFailures: number
  /** The last few failures, newest last. */
  recentFailures: { at: string; reason: string }[]
}

const RECENT = 5

/** 32-bit FNV-1a, then murmur3's finaliser so that every input bit moves every output bit. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let k = 0; k < text.length; k++) {
    h ^= text.charCodeAt(k)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Hosts ranked for `key`, best first: each host's weight is the hash of (its name, key). */
export function rendezvous<H extends { readonly name: string }>(
  hosts: readonly H[],
  key: string,
): H[] {
  return hosts
    .map((host) => ({ host, weight: hash32(`${host.name}\n${key}`) }))
    .sort((a, b) => b.weight - a.weight || (a.host.name < b.host.name ? -1 : 1))
    .map((x) => x.host)
}

/**
 * The run group as far as the edge can tell: the host's micro-batching key before the model's
 * defaults are filled in. A speedup becomes the budget it selects when `schedule` (the model's
 * at `req.steps`) is given. Two spellings of one run that the edge cannot equate (steps
 * omitted vs the default written out) may rank hosts differently; that costs a shared batch,
 * never a wrong answer.
 */
export function runKey(req: GenerateRequest, schedule?: Pick<Schedule, 'steps' | 'plans'>): string {
  let budget: number | string | undefined = req.budget
  if (req.speedup !== undefined) {
    budget = req.speedup <= 1 ? undefined : `x${req.speedup}`
    if (req.speedup > 1 && schedule && schedule.steps === req.steps) {
      try {
        budget = choosePlan(schedule, { speedup: req.speedup }).budget
      } catch {
        // no plan reaches it: the host answers the error, from whichever host
      }
    }
  }
  if (budget === undefined || budget === req.steps) budget = 'full'
  return [req.model, req.steps ?? 'default', budget, req.guidance ?? 'default'].join('\n')
}

interface HostState {
  coolUntil: number
  consecutive: number
  recent: { at: number; reason: string }[]
}

/** The hosts and their health, shared by every request an isolate serves. */
export class HostPool {
  readonly hosts: readonly PoolHost[]
  readonly cooldownMs: number
  readonly #now: () => number
  readonly #state = new Map<PoolHost, HostState>()

  /** `cooldownMs`: how long a failed host is tried only after the healthy ones. */
  constructor(hosts: readonly PoolHost[], opts: { cooldownMs: number; now?: () => number }) {
    const names = new Set(hosts.map((h) => h.name))
    if (names.size !== hosts.length) throw new Error('pool host names must be distinct')
    this.hosts = hosts
    this.cooldownMs = opts.cooldownMs
    this.#now = opts.now ?? Date.now
    for (const h of hosts) this.#state.set(h, { coolUntil: -Infinity, consecutive: 0, recent: [] })
  }

  /**
   * Try order for `key`: healthy hosts by rank, then cooling ones by rank. A cooling host is a
   * last resort rather than excluded, so a request still has a chance when every host failed
   * recently (a restart, a brief network loss).
   */
  order(key: string): PoolHost[] {
    const now = this.#now()
    const ranked = rendezvous(this.hosts, key)
    const cooling = (h: PoolHost) => this.#state.get(h)!.coolUntil > now
    return [...ranked.filter((h) => !cooling(h)), ...ranked.filter(cooling)]
  }

  /** The host did not answer, or answered 5xx: cool it down. */
  failed(host: PoolHost, reason: string): void {
    const s = this.#state.get(host)!
    const now = this.#now()
    s.coolUntil = now + this.cooldownMs
    s.consecutive++
    s.recent.push({ at: now, reason })
    if (s.recent.length > RECENT) s.recent.shift()
  }

  /** The host answered (anything but 5xx and 429): it is healthy again. */
  succeeded(host: PoolHost): void {
    const s = this.#state.get(host)!
    s.coolUntil = -Infinity
    s.consecutive = 0
  }

  /** Milliseconds until the first cooling host is back (0 when one is healthy now). */
  nextBackInMs(): number {
    const now = this.#now()
    return Math.max(0, Math.min(...this.hosts.map((h) => this.#state.get(h)!.coolUntil - now)))
  }

  health(): HostHealth[] {
    const now = this.#now()
    return this.hosts.map((h) => {
      const s = this.#state.get(h)!
      const cooling = s.coolUntil > now
      return {
        name: h.name,
        state: cooling ? 'cooling' : 'healthy',
        ...(cooling ? { coolingUntil: new Date(s.coolUntil).toISOString() } : {}),
        consecutiveFailures: s.consecutive,
        recentFailures: s.recent.map((f) => ({
          at: new Date(f.at).toISOString(),
          reason: f.reason,
        })),
      }
    })
  }
}
