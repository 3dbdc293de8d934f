import { describe, expect, it } from 'vitest'
import { BatchQueue, QueueAbortedError, QueueFullError, QueueTimeoutError } from './queue.ts'

interface Group {
  model: string
  budget: number
}

/** A runner whose runs finish when the test says so, recording what each run received. */
function harness(
  opts: {
    maxBatch?: number
    maxQueued?: number
    windowMs?: number
    timeoutMs?: number
    estimateMs?: (group: Group, items: number) => number | undefined
  } = {},
) {
  const runs: {
    group: Group
    items: number[]
    signal: AbortSignal
    finish(): void
    fail(e: Error): void
  }[] = []
  const queue = new BatchQueue<Group, number, number[]>({
    key: (g) => `${g.model}/${g.budget}`,
    run: (group, items, signal) =>
      new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason))
        runs.push({
          group,
          items,
          signal,
          finish: () => resolve(items.map((x) => x * 10)),
          fail: reject,
        })
      }),
    windowMs: 0,
    ...opts,
  })
  return { queue, runs }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms))
const g = (budget: number, model = 'm'): Group => ({ model, budget })

describe('BatchQueue', () => {
  it('runs a lone request once and hands back its slice', async () => {
    const { queue, runs } = harness()
    const p = queue.submit(g(8), [1, 2])
    await tick()
    expect(runs).toHaveLength(1)
    runs[0].finish()
    const t = await p
    expect(t.output.slice(t.offset, t.offset + t.count)).toEqual([10, 20])
    expect(t).toMatchObject({ offset: 0, count: 2, batchItems: 2, batchRequests: 1 })
  })

  it('batches requests with the same key that arrive while the runner is busy', async () => {
    const { queue, runs } = harness()
    const first = queue.submit(g(8), [0])
    await tick()
    const rest = [1, 2, 3].map((x) => queue.submit(g(8), [x, x + 100]))
    const other = queue.submit(g(9), [7])
    expect(queue.stats).toEqual({ queued: 4, running: 1, batches: 2 })
    runs[0].finish()
    await first
    await tick()
    // FIFO by batch: the budget-8 batch (opened first) runs next, with all three requests
    expect(runs[1].items).toEqual([1, 101, 2, 102, 3, 103])
    runs[1].finish()
    const tickets = await Promise.all(rest)
    expect(tickets.map((t) => t.output.slice(t.offset, t.offset + t.count))).toEqual([
      [10, 1010],
      [20, 1020],
      [30, 1030],
    ])
    expect(tickets.every((t) => t.batchRequests === 3 && t.batchItems === 6)).toBe(true)
    await tick()
    expect(runs[2]).toMatchObject({ group: g(9), items: [7] })
    runs[2].finish()
    await other
  })

  it('never puts more than maxBatch items in one run', async () => {
    const { queue, runs } = harness({ maxBatch: 4 })
    const busy = queue.submit(g(8), [0])
    await tick()
    const ps = [[1, 2, 3], [4, 5], [6, 7], [8]].map((items) => queue.submit(g(8), items))
    runs[0].finish()
    await busy
    for (let k = 1; k <= 3; k++) {
      await tick()
      runs[k]?.finish()
    }
    await Promise.all(ps)
    expect(runs.slice(1).map((r) => r.items)).toEqual([
      [1, 2, 3, 8],
      [4, 5, 6, 7],
    ])
    expect(() => queue.submit(g(8), [1, 2, 3, 4, 5])).toThrow(RangeError)
  })

  it('waits windowMs for company when idle', async () => {
    const { queue, runs } = harness({ windowMs: 30 })
    const a = queue.submit(g(8), [1])
    await tick(5)
    const b = queue.submit(g(8), [2])
    expect(runs).toHaveLength(0)
    await tick(50)
    expect(runs).toHaveLength(1)
    expect(runs[0].items).toEqual([1, 2])
    runs[0].finish()
    await Promise.all([a, b])
  })

  it('after a run, waits windowMs for the clients it just answered', async () => {
    const { queue, runs } = harness({ windowMs: 30 })
    const first = queue.submit(g(8), [1])
    await tick(40)
    const waiting = queue.submit(g(8), [2]) // arrives during the run: waits for the runner
    await tick(40) // its own window has passed by now
    runs[0].finish()
    await first
    const again = queue.submit(g(8), [3]) // the answered client comes straight back
    await tick(50)
    expect(runs.map((r) => r.items)).toEqual([[1], [2, 3]])
    runs[1].finish()
    await Promise.all([waiting, again])
  })

  it('rejects with QueueFullError and a Retry-After when maxQueued requests wait', async () => {
    const { queue, runs } = harness({ maxQueued: 2 })
    const busy = queue.submit(g(8), [0])
    await tick()
    const waiting = [queue.submit(g(8), [1]), queue.submit(g(9), [2])]
    let err: unknown
    try {
      void queue.submit(g(8), [3])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(QueueFullError)
    expect((err as QueueFullError).retryAfter).toBeGreaterThanOrEqual(1)
    for (let k = 0; k < 3; k++) {
      runs[k].finish()
      await tick()
    }
    await Promise.all([busy, ...waiting])
  })

  it('drops an aborted waiting request without running it', async () => {
    const { queue, runs } = harness()
    const busy = queue.submit(g(8), [0])
    await tick()
    const ac = new AbortController()
    const gone = queue.submit(g(8), [1], { signal: ac.signal })
    const kept = queue.submit(g(8), [2])
    ac.abort()
    await expect(gone).rejects.toBeInstanceOf(QueueAbortedError)
    expect(queue.stats.queued).toBe(1)
    runs[0].finish()
    await busy
    await tick()
    expect(runs[1].items).toEqual([2])
    runs[1].finish()
    await kept
  })

  it('cancels a running batch only when every request in it has gone', async () => {
    const { queue, runs } = harness()
    const a = new AbortController()
    const b = new AbortController()
    const pa = queue.submit(g(8), [1], { signal: a.signal })
    const pb = queue.submit(g(8), [2], { signal: b.signal })
    await tick()
    expect(runs[0].items).toEqual([1, 2])
    a.abort()
    await expect(pa).rejects.toBeInstanceOf(QueueAbortedError)
    expect(runs[0].signal.aborted).toBe(false)
    b.abort()
    await expect(pb).rejects.toBeInstanceOf(QueueAbortedError)
    expect(runs[0].signal.aborted).toBe(true)
    await tick()
    expect(queue.stats).toEqual({ queued: 0, running: 0, batches: 0 })
  })

  it('times out a request that waits or runs too long', async () => {
    const { queue, runs } = harness({ timeoutMs: 20 })
    const p = queue.submit(g(8), [1])
    await expect(p).rejects.toBeInstanceOf(QueueTimeoutError)
    expect(runs[0].signal.aborted).toBe(true)
    const q = queue.submit(g(8), [2], { timeoutMs: 1000 })
    await tick()
    runs[1].finish()
    await expect(q).resolves.toMatchObject({ count: 1 })
  })

  it('passes a run failure to every request of the batch and keeps going', async () => {
    const { queue, runs } = harness()
    const p = queue.submit(g(8), [1])
    await tick()
    runs[0].fail(new Error('boom'))
    await expect(p).rejects.toThrow('boom')
    const q = queue.submit(g(8), [2])
    await tick()
    runs[1].finish()
    await expect(q).resolves.toMatchObject({ batchItems: 1 })
  })

  it('answers an already aborted signal without queueing', async () => {
    const { queue } = harness()
    await expect(queue.submit(g(8), [1], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      QueueAbortedError,
    )
    expect(queue.stats.queued).toBe(0)
  })
})

describe('Retry-After', () => {
  it('adds what is left of the run in progress to every batch waiting, from the estimates', async () => {
    // a run of budget b items n is predicted to take b * n * 100 ms
    const { queue, runs } = harness({
      maxQueued: 2,
      maxBatch: 4,
      estimateMs: (grp, n) => grp.budget * n * 100,
    })
    const pending = [queue.submit(g(10), [1, 2])]
    await tick()
    expect(runs).toHaveLength(1) // budget 10 runs; 5 and 8 wait
    pending.push(queue.submit(g(5), [3]), queue.submit(g(8), [4, 5, 6]))
    let full: QueueFullError | undefined
    try {
      void queue.submit(g(3), [7])
    } catch (e) {
      full = e as QueueFullError
    }
    expect(full).toBeInstanceOf(QueueFullError)
    // 2000 ms (running, just started) + 500 + 2400 waiting = 4.9 s -> 5
    expect(full!.retryAfter).toBe(5)
    await tick(1000)
    // a second later the run in progress has about 1 s left: 1 + 0.5 + 2.4 = 3.9 s -> 4
    expect(queue.expectedWaitMs()).toBeGreaterThan(3700)
    expect(queue.expectedWaitMs()).toBeLessThan(3950)
    for (let k = 0; k < 3; k++) {
      runs[k].finish()
      await tick()
    }
    await Promise.all(pending)
    expect(queue.expectedWaitMs()).toBe(0)
  })
})
