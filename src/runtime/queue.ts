/**
 * A bounded micro-batching queue. Requests whose groups share a key (for generation: model,
 * steps, budget, guidance) join one batch and run as ONE call: a static DPCache schedule makes
 * every row of a batch compute and forecast at the same steps, which an adaptive cache (one
 * that decides per sample) cannot do. The queue knows nothing of engines or HTTP.
 *
 * Life of a request:
 *   submit -> joins the oldest open batch with its key and room, or opens one
 *          -> the batch becomes eligible `windowMs` after it opened and after the last run
 *             ended, or as soon as it is full
 *          -> while every runner is busy, eligible batches keep accepting joiners
 *          -> a free runner starts the oldest eligible batch; its requests leave the queue
 *          -> one `run(group, items)`; each request gets the output and its item offset
 * An abort or timeout before the start removes the request; after the start it is answered
 * at once and the run is cancelled only when no request in it still wants the result.
 */

/** Thrown by `submit` when `maxQueued` requests are already waiting. */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
  /** Whole seconds after which a retry has a fair chance (for `Retry-After`). */
  readonly retryAfter: number
  constructor(retryAfter: number, queued: number) {
    super(`generation queue is full (${queued} requests waiting)`)
    this.retryAfter = retryAfter
  }
}

/** The request did not finish within its timeout (waiting and running together). */
export class QueueTimeoutError extends Error {
  override name = 'QueueTimeoutError'
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(`generation did not finish within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/** The caller's signal aborted (for HTTP: the client disconnected). */
export class QueueAbortedError extends Error {
  override name = 'QueueAbortedError'
}

export interface BatchQueueOptions<G, I, O> {
  /** Runs one batch. All items share `group`; `signal` aborts when nobody wants the result. */
  run(group: G, items: I[], signal: AbortSignal): Promise<O>
  /** Equal keys may share a run. */
  key(group: G): string
  /** Most items in one run (1 = one request at a time, no batching). Default 16. */
  maxBatch?: number
  /** How long a new batch waits for company while a runner is idle. Default 4 ms. */
  windowMs?: number
  /** Most requests waiting (not yet running); more throw `QueueFullError`. Default 64. */
  maxQueued?: number
  /** Per-request limit on waiting plus running. Default 30 s. */
  timeoutMs?: number
  /** Runs in flight at once (web onnxruntime sessions run one at a time). Default 1. */
  concurrency?: number
  /**
   * Predicted duration of one run (for Retry-After); undefined or absent falls back to a
   * running average of past runs.
   */
  estimateMs?(group: G, items: number): number | undefined
}

/** What a request gets back: the whole batch output and where its own items are in it. */
export interface BatchTicket<O> {
  output: O
  offset: number
  count: number
  /** Time between submit and the start of its run. */
  queueMs: number
  batchItems: number
  batchRequests: number
}

interface Job<I, O> {
  items: I[]
  enqueuedAt: number
  done: boolean
  batch: Batch<unknown, I, O>
  resolve(t: BatchTicket<O>): void
  reject(e: unknown): void
  release(): void
}

interface Batch<G, I, O> {
  key: string
  group: G
  jobs: Job<I, O>[]
  items: number
  eligibleAt: number
  started: boolean
  startedAt: number
  controller: AbortController
}

export class BatchQueue<G, I, O> {
  readonly maxBatch: number
  readonly windowMs: number
  readonly maxQueued: number
  readonly timeoutMs: number
  readonly concurrency: number
  #waiting: Batch<G, I, O>[] = []
  #queued = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #runMs = 250 // running average of one batch's duration, when there is no estimateMs
  #freedAt = -Infinity // when a runner last finished
  readonly #running: Set<Batch<G, I, O>> = new Set()
  readonly #opts: BatchQueueOptions<G, I, O>

  constructor(opts: BatchQueueOptions<G, I, O>) {
    this.#opts = opts
    this.maxBatch = opts.maxBatch ?? 16
    this.windowMs = opts.windowMs ?? 4
    this.maxQueued = opts.maxQueued ?? 64
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.concurrency = opts.concurrency ?? 1
  }

  /** Requests waiting and batches running, for health checks and tests. */
  get stats(): { queued: number; running: number; batches: number } {
    return { queued: this.#queued, running: this.#running.size, batches: this.#waiting.length }
  }

  /**
   * How long a request submitted now would wait before its run starts: what is left of the
   * runs in progress plus every waiting batch ahead, shared among the runners.
   */
  expectedWaitMs(): number {
    const now = performance.now()
    const estimate = (b: Batch<G, I, O>) => this.#opts.estimateMs?.(b.group, b.items) ?? this.#runMs
    let work = 0
    for (const b of this.#running) work += Math.max(0, estimate(b) - (now - b.startedAt))
    for (const b of this.#waiting) work += estimate(b)
    return work / this.concurrency
  }

  /** Queues `items` (at most `maxBatch`) under `group`. Throws `QueueFullError` synchronously. */
  submit(
    group: G,
    items: I[],
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<BatchTicket<O>> {
    if (items.length < 1 || items.length > this.maxBatch) {
      throw new RangeError(`a request needs 1..${this.maxBatch} items, got ${items.length}`)
    }
    if (opts.signal?.aborted)
      return Promise.reject(new QueueAbortedError('request aborted before queueing'))
    if (this.#queued >= this.maxQueued) {
      throw new QueueFullError(Math.max(1, Math.ceil(this.expectedWaitMs() / 1000)), this.#queued)
    }
    const key = this.#opts.key(group)
    let batch = this.#waiting.find((b) => b.key === key && b.items + items.length <= this.maxBatch)
    if (!batch) {
      batch = {
        key,
        group,
        jobs: [],
        items: 0,
        eligibleAt: performance.now() + this.windowMs,
        started: false,
        startedAt: 0,
        controller: new AbortController(),
      }
      this.#waiting.push(batch)
    }
    const b = batch
    return new Promise<BatchTicket<O>>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs
      const timer = setTimeout(() => this.#drop(job, new QueueTimeoutError(timeoutMs)), timeoutMs)
      const onAbort = () => this.#drop(job, new QueueAbortedError('request aborted'))
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      const job: Job<I, O> = {
        items,
        enqueuedAt: performance.now(),
        done: false,
        batch: b as Batch<unknown, I, O>,
        resolve,
        reject,
        release: () => {
          clearTimeout(timer)
          opts.signal?.removeEventListener('abort', onAbort)
        },
      }
      b.jobs.push(job)
      b.items += items.length
      this.#queued++
      // after the current task, so requests submitted together share a batch even with no window
      queueMicrotask(() => this.#pump())
    })
  }

  /** Answers one request early (abort or timeout) and withdraws it from its batch. */
  #drop(job: Job<I, O>, err: Error): void {
    if (job.done) return
    job.done = true
    job.release()
    job.reject(err)
    const batch = job.batch as Batch<G, I, O>
    if (!batch.started) {
      batch.jobs.splice(batch.jobs.indexOf(job), 1)
      batch.items -= job.items.length
      this.#queued--
      if (batch.jobs.length === 0) this.#waiting.splice(this.#waiting.indexOf(batch), 1)
    } else if (batch.jobs.every((j) => j.done)) {
      batch.controller.abort(err)
    }
  }

  #pump(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#running.size < this.concurrency && this.#waiting.length > 0) {
      const now = performance.now()
      // A window also opens when a runner frees up: the clients it just answered tend to send
      // their next request within a millisecond or two, and without this pause a waiting
      // lone request would run alone while they queue behind it (runs of 1, 7, 1, 7...).
      const opensAt = (b: Batch<G, I, O>) => Math.max(b.eligibleAt, this.#freedAt + this.windowMs)
      const next = this.#waiting.findIndex((b) => b.items >= this.maxBatch || opensAt(b) <= now)
      if (next < 0) {
        const wait = Math.min(...this.#waiting.map(opensAt)) - now
        this.#timer = setTimeout(() => this.#pump(), Math.max(0, wait))
        return
      }
      const [batch] = this.#waiting.splice(next, 1)
      void this.#start(batch)
    }
  }

  async #start(batch: Batch<G, I, O>): Promise<void> {
    batch.started = true
    const startedAt = (batch.startedAt = performance.now())
    this.#running.add(batch)
    this.#queued -= batch.jobs.length
    const jobs = batch.jobs.slice()
    const offsets: number[] = []
    const items: I[] = []
    for (const job of jobs) {
      offsets.push(items.length)
      items.push(...job.items)
    }
    try {
      const output = await this.#opts.run(batch.group, items, batch.controller.signal)
      jobs.forEach((job, k) => {
        if (job.done) return
        job.done = true
        job.release()
        job.resolve({
          output,
          offset: offsets[k],
          count: job.items.length,
          queueMs: startedAt - job.enqueuedAt,
          batchItems: items.length,
          batchRequests: jobs.length,
        })
      })
    } catch (err) {
      for (const job of jobs) {
        if (job.done) continue
        job.done = true
        job.release()
        job.reject(err)
      }
    } finally {
      this.#freedAt = performance.now()
      this.#runMs = 0.8 * this.#runMs + 0.2 * (this.#freedAt - startedAt)
      this.#running.delete(batch)
      this.#pump()
    }
  }
}
