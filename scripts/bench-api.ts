/**
 * bench:api: the Node host over real HTTP (a child process, as `npm start` runs it; the load
 * generator is this process).
 *   1. schedule fetches at 50 concurrent clients: the whole file, one plan, and revalidation
 *      with If-None-Match (304): p50/p99 latency and requests/s;
 *   2. generate throughput at 8 concurrent clients, one-at-a-time (MAX_BATCH=1) vs
 *      micro-batching (MAX_BATCH=16), measured side by side in one run, rounds alternating.
 *
 *   npm run bench:api [-- --clients 50 --fetches 3000 --gen-clients 8 --gen-requests 6
 *                         --steps 50 --budget 10 --rounds 1 --schedules DIR]
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny-dit-mnist' },
    clients: { type: 'string', default: '50' },
    fetches: { type: 'string', default: '3000' },
    'gen-clients': { type: 'string', default: '8' },
    'gen-requests': { type: 'string', default: '6' },
    steps: { type: 'string', default: '50' },
    budget: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    schedules: { type: 'string' },
  },
})
const MODEL = values.model!
const STEPS = Number(values.steps)
const BUDGET = Number(values.budget)
const ROOT = join(import.meta.dirname, '..')

/** Starts src/hosts/node.ts on a free port; resolves with its base URL and a stop function. */
async function startHost(
  env: Record<string, string>,
): Promise<{ base: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node.ts'], {
    cwd: ROOT,
    env: { ...withoutToken(process.env), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let log = ''
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
      if (m && /dpcache-edge ready/.test(log)) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`host exited with ${code}`)))
  })
  return {
    base,
    stop: () => new Promise((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  }
}

/** Runs `total` calls of `fn` from `concurrency` sequential clients; returns each latency (ms). */
async function load(concurrency: number, total: number, fn: (k: number) => Promise<void>) {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const k = next++
        const t = performance.now()
        await fn(k)
        latencies.push(performance.now() - t)
      }
    }),
  )
  return { latencies, wallMs: performance.now() - t0 }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1)
const row = (...cells: (string | number)[]) => console.log(`| ${cells.join(' | ')} |`)

// node:http with keep-alive: about twice the rate of undici's fetch on this machine, so the
// numbers say more about the server than about the load generator
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

/** GET that reads the whole body and checks the status. */
function get(url: string, status: number, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        res.on('data', () => {})
        res.on('end', () =>
          res.statusCode === status ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
        )
      })
      .on('error', reject)
  })
}

async function expectOk(res: Response, status = 200): Promise<Response> {
  if (res.status !== status) throw new Error(`${res.url}: ${res.status} ${await res.text()}`)
  return res
}

const hostEnv: Record<string, string> = values.schedules ? { SCHEDULES_DIR: values.schedules } : {}

console.log(`bench:api on Node ${process.version}, model ${MODEL}\n`)

// 1. schedule fetches
{
  const host = await startHost(hostEnv)
  const clients = Number(values.clients)
  const total = Number(values.fetches)
  const file = `${host.base}/v1/schedules/${MODEL}/${STEPS}`
  const plan = `${file}?budget=${BUDGET}`
  const tag = (await expectOk(await fetch(file))).headers.get('etag')!
  const size = (await (await fetch(file)).arrayBuffer()).byteLength
  const variants: [string, (k: number) => Promise<void>][] = [
    [`whole file (${(size / 1024).toFixed(1)} KiB)`, () => get(file, 200)],
    [`one plan (?budget=${BUDGET})`, () => get(plan, 200)],
    ['revalidate (If-None-Match -> 304)', () => get(file, 304, { 'If-None-Match': tag })],
  ]
  await load(clients, 300, variants[0][1]) // warm-up: connections, JIT, caches
  console.log(
    `Schedule fetches, ${clients} concurrent keep-alive clients, ${total} requests per row\n`,
  )
  row('request', 'p50 ms', 'p99 ms', 'req/s')
  row('---', '---:', '---:', '---:')
  for (const [name, fn] of variants) {
    const { latencies, wallMs } = await load(clients, total, fn)
    row(name, ms(pct(latencies, 50)), ms(pct(latencies, 99)), Math.round((total / wallMs) * 1000))
  }
  await host.stop()
}

// 2. generate: one-at-a-time vs micro-batching
{
  const clients = Number(values['gen-clients'])
  const total = clients * Number(values['gen-requests'])
  const modes = [
    { name: 'one at a time (MAX_BATCH=1)', env: { MAX_BATCH: '1' } },
    { name: 'micro-batching (MAX_BATCH=16)', env: { MAX_BATCH: '16' } },
  ]
  const rows: (string | number)[][] = []
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const mode of round % 2 ? [...modes].reverse() : modes) {
      const host = await startHost({ ...hostEnv, ...mode.env })
      const body = (k: number) =>
        JSON.stringify({
          model: MODEL,
          class: k % 10,
          seed: k,
          steps: STEPS,
          budget: BUDGET,
          format: 'png',
        })
      const send = async (k: number) => {
        const res = await expectOk(
          await fetch(`${host.base}/v1/generate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: body(k),
          }),
        )
        batchSizes.push(Number(/items=(\d+)/.exec(res.headers.get('x-batch') ?? '')?.[1] ?? 1))
        await res.arrayBuffer()
      }
      const batchSizes: number[] = []
      await load(1, 2, send) // warm-up
      batchSizes.length = 0
      const { latencies, wallMs } = await load(clients, total, send)
      // a run of b items answers b requests, so sum(1 / b) over requests counts the runs
      const mean = batchSizes.length / batchSizes.reduce((a, b) => a + 1 / b, 0)
      const rate = ((total / wallMs) * 1000).toFixed(2)
      const [p50, p99] = [ms(pct(latencies, 50)), ms(pct(latencies, 99))]
      rows.push([mode.name, round + 1, rate, p50, p99, mean.toFixed(1)])
      await host.stop()
    }
  }
  console.log(`\nGenerate, ${clients} concurrent clients, ${total} requests of 1 image each,`)
  console.log(`${STEPS} steps, budget ${BUDGET}, model default guidance, wasm, 1 thread\n`)
  row('mode', 'round', 'images/s', 'p50 ms', 'p99 ms', 'mean items per run')
  row('---', '---:', '---:', '---:', '---:', '---:')
  for (const r of rows) row(...r)
}

/** The parent's environment without API_TOKEN: the benchmark measures an open host. */
function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { API_TOKEN: _token, ...rest } = env
  return rest
}
