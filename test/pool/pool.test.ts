/**
 * End to end: three real Node hosts (demo model, wasm) on loopback behind `wrangler dev
 * --local`, whose GENERATE_URLS names them. A burst of requests in three run groups, one host
 * killed in the middle of it: no request is lost, each group stays on its host (the one that
 * rendezvous hashing ranks first, or its second choice once the first is dead), and requests of
 * one group share sampler runs there (X-Batch).
 *
 * A second edge with a short POOL_TIMEOUT_MS shows that when the Worker gives up on a request
 * it aborts the host's run. (A client that disconnects from `wrangler dev` does not reach the
 * Worker locally: miniflare does not abort request.signal; the Worker's side of that path is
 * covered in test/worker/pool.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rendezvous, runKey } from '../../src/api/pool.ts'
import type { GenerateRequest } from '../../src/api/schemas.ts'
import {
  cleanup,
  kill,
  queueOf,
  startEdge,
  startHost,
  waitFor,
  type Edge,
  type Host,
} from './harness.ts'

const MODEL = 'tiny-dit-mnist'
const STEPS = 20
const PER_GROUP = [6, 4] // requests per group in the first wave and in the one after the kill
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let hosts: Host[] = []
let edge: Edge
let strict: Edge // the same Worker with a 2 s deadline

beforeAll(async () => {
  const hostEnv = { MAX_BATCH: '16', BATCH_WINDOW_MS: '50', MAX_QUEUED: '64', TIMEOUT_MS: '90000' }
  hosts = await Promise.all([0, 1, 2].map(() => startHost(hostEnv, 90_000)))
  ;[edge, strict] = await Promise.all([
    startEdge(
      {
        GENERATE_URLS: hosts.map((h) => h.url).join(','),
        POOL_COOLDOWN_MS: '120000',
        POOL_TIMEOUT_MS: '90000',
      },
      90_000,
    ),
    startEdge({ GENERATE_URLS: hosts[0].url, POOL_TIMEOUT_MS: '2000' }, 90_000),
  ])
}, 200_000)

afterAll(cleanup)

const post = (base: string, body: Record<string, unknown>) =>
  fetch(`${base}/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, ...body }),
  })

/** Hosts ranked for a budget's run group, the way the Worker ranks them. */
const ranked = (budget: number) =>
  rendezvous(
    hosts.map((h) => ({ name: h.url, host: h })),
    runKey({
      model: MODEL,
      class: 0,
      steps: STEPS,
      budget,
      batch: 1,
      format: 'png',
    } as GenerateRequest),
  ).map((x) => x.host)

describe('a pool of three Node hosts behind wrangler dev', () => {
  it('aborts the run on the host when the edge deadline passes', async () => {
    const host = hosts[0]
    const images = { class: 3, batch: 16 } // with guidance: 32 rows per model call
    // the yardstick, measured here and now: the same images at 20 full steps, straight to the host
    const t0 = performance.now()
    const reference = await post(host.base, { ...images, steps: 20, budget: 20 })
    expect(reference.status).toBe(200)
    await reference.arrayBuffer()
    const twentyStepsMs = performance.now() - t0

    let sawRunning = false
    let polling = true
    const poll = (async () => {
      while (polling) {
        if ((await queueOf(host.base).catch(() => ({ running: 0 }))).running > 0) sawRunning = true
        await sleep(20)
      }
    })()
    let stoppedMs: number
    try {
      // 50 full steps through the edge whose deadline is 2 s (fetch asks for gzip: the JSON
      // must come back encoded once, not twice)
      const res = await post(strict.base, { ...images, steps: 50, budget: 50 })
      expect(res.status).toBe(504)
      expect(((await res.json()) as any).error.code).toBe('timeout')
      const answered = performance.now()
      await waitFor('the host run to stop', 120_000, host.log, async () => {
        return (await queueOf(host.base)).running === 0
      })
      stoppedMs = performance.now() - answered
    } finally {
      polling = false
      await poll
    }
    // left alone, the run would go on for about 2.5 x twentyStepsMs - 2 s after the 504
    const leftMs = 2.5 * twentyStepsMs - 2000
    const [ref, gone, left] = [twentyStepsMs, stoppedMs, leftMs].map(Math.round)
    console.log(`20 full steps: ${ref} ms; the 50-step run gone ${gone} ms after the 504`)
    console.log(`(left alone it would have run about ${left} ms more)`)
    expect(sawRunning).toBe(true)
    // the sampler checks the signal between steps: a step or a few, not the rest of the run
    expect(leftMs).toBeGreaterThan(twentyStepsMs / 2) // else this machine is too fast to tell
    expect(stoppedMs).toBeLessThan(twentyStepsMs / 2)
  }, 180_000)

  it('loses no request when a host dies mid-burst, and keeps each group on its host', async () => {
    // three run groups, each ranked first on a different host
    const budgets: number[] = []
    for (const host of hosts) {
      const b = [...Array(STEPS - 3).keys()]
        .map((k) => k + 4)
        .find((k) => ranked(k)[0] === host && !budgets.includes(k))!
      budgets.push(b)
    }
    const victim = ranked(budgets[0])[0]
    const heir = ranked(budgets[0])[1]

    type Answer = { budget: number; wave: number; status: number; headers: Headers }
    const send = (wave: number) =>
      budgets.flatMap((budget) =>
        Array.from({ length: PER_GROUP[wave] }, (_, k) =>
          post(edge.base, { class: k % 10, seed: 100 * wave + k, steps: STEPS, budget }).then(
            async (res): Promise<Answer> => {
              await res.arrayBuffer()
              return { budget, wave, status: res.status, headers: res.headers }
            },
          ),
        ),
      )
    const first = send(0)
    await waitFor('the victim to run', 60_000, victim.log, async () => {
      return (await queueOf(victim.base)).running > 0
    })
    kill(victim.child)
    const second = send(1)
    const answers = await Promise.all([...first, ...second])

    // no request lost: every answer is an image, or a refusal that says when to come back
    expect(answers.length).toBe(budgets.length * (PER_GROUP[0] + PER_GROUP[1]))
    for (const a of answers) {
      if (a.status !== 200) {
        expect([429, 503]).toContain(a.status)
        expect(a.headers.get('retry-after')).toMatch(/^\d+$/)
      }
    }
    const served = answers.filter((a) => a.status === 200)
    expect(served.length).toBeGreaterThan(answers.length / 2)

    const hostOf = (a: Answer) => a.headers.get('x-pool-host')
    const port = (url: string | null) => url?.replace(/.*:(\d+)\/.*/, '$1')
    const count = (xs: (string | number | null)[]) =>
      Object.fromEntries([...new Set(xs)].map((x) => [x, xs.filter((y) => y === x).length]))
    console.log(
      `burst of ${answers.length}, host :${port(victim.url)} killed mid-way; statuses`,
      count(answers.map((a) => a.status)),
    )
    for (const budget of budgets) {
      const mine = served.filter((a) => a.budget === budget)
      const hostsSeen = count(mine.map((a) => `:${port(hostOf(a))}`))
      const attempts = count(mine.map((a) => a.headers.get('x-pool-attempts')))
      const batches = count(mine.map((a) => a.headers.get('x-batch')))
      console.log(`budget ${budget}:`, JSON.stringify({ hosts: hostsSeen, attempts, batches }))
    }
    for (const budget of budgets) {
      const mine = served.filter((a) => a.budget === budget)
      const [best, next] = ranked(budget)
      if (best === victim) {
        // answered by the victim before it died, or by its second choice
        for (const a of mine) expect([victim.url, heir.url]).toContain(hostOf(a))
        expect(mine.filter((a) => a.wave === 1).every((a) => hostOf(a) === next.url)).toBe(true)
        // requests in flight on the victim were retried on the heir
        expect(
          mine.some((a) => hostOf(a) === heir.url && a.headers.get('x-pool-attempts') === '2'),
        ).toBe(true)
      } else {
        expect(new Set(mine.map(hostOf))).toEqual(new Set([best.url]))
      }
      // affinity pays: requests of one group shared sampler runs
      const shared = mine.map((a) =>
        Number(/requests=(\d+)/.exec(a.headers.get('x-batch') ?? '')?.[1] ?? 0),
      )
      expect(Math.max(...shared)).toBeGreaterThan(1)
      expect(mine.every((a) => a.headers.get('x-budget') === String(budget))).toBe(true)
    }

    // the Worker reports the dead host as cooling down, with why
    const health = (await (await fetch(`${edge.base}/healthz`)).json()) as {
      hosts: { name: string; state: string; recentFailures: { reason: string }[] }[]
    }
    const dead = health.hosts.find((h) => h.name === victim.url)!
    expect(dead.state).toBe('cooling')
    expect(dead.recentFailures.length).toBeGreaterThan(0)
    expect(
      health.hosts
        .filter((h) => h.state === 'healthy')
        .map((h) => h.name)
        .sort(),
    ).toEqual(
      hosts
        .filter((h) => h !== victim)
        .map((h) => h.url)
        .sort(),
    )
  }, 120_000)
})

// runs after the kill: the pool edge still has two live hosts
describe('request bodies at a real wrangler dev edge', () => {
  it('a chunked 70 KB body gets 413, and the next POST and GET are served without a restart', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(7000))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) return controller.close()
        sent += 1
        controller.enqueue(chunk)
      },
    })
    const big = await fetch(`${edge.base}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      // @ts-expect-error: undici needs duplex for a stream body (sent chunked, no length)
      duplex: 'half',
      signal: AbortSignal.timeout(20_000),
    })
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large')
    // the Worker used to restart here: the next POST got 503 and the next GET hung 30-45 s
    const next = await fetch(`${edge.base}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, class: 1, seed: 1, steps: STEPS, budget: 4 }),
      signal: AbortSignal.timeout(20_000),
    })
    expect(next.status, await next.clone().text()).toBe(200)
    await next.arrayBuffer()
    const models = await fetch(`${edge.base}/v1/models`, { signal: AbortSignal.timeout(10_000) })
    expect(models.status).toBe(200)
  }, 60_000)
})
