/**
 * A typed client for the dpcache-edge API, for Node, Deno and browsers (plain `fetch`, no
 * dependencies: the types come from the zod schemas the server validates with, imported as
 * types only, so nothing of zod reaches a bundle).
 *
 *   const api = createClient({ baseUrl: 'http://127.0.0.1:8787' })
 *   const { models } = await api.models()
 *   const plan = await api.schedule('tiny-dit-mnist', 50, { speedup: 5 })
 *   const out = await api.generate({ model: 'tiny-dit-mnist', class: 7, seed: 1, budget: 10, format: 'json' })
 *
 * Any non-2xx answer rejects with an `ApiClientError` that carries the API's error envelope
 * (code, message, field, allowed) and the HTTP status.
 */
import type { z } from 'zod'
import type {
  errorSchema,
  generateJsonSchema,
  generateRequestSchema,
  modelsResponseSchema,
  planResponseSchema,
} from '../api/schemas.ts'
import type { Schedule } from '../core/schedule.ts'

/** What POST /v1/generate accepts (defaults applied by the server). */
export type GenerateRequest = z.input<ReturnType<typeof generateRequestSchema>>
export type GenerateJson = z.output<typeof generateJsonSchema>
export type ModelsResponse = z.output<typeof modelsResponseSchema>
export type PlanResponse = z.output<typeof planResponseSchema>
export type ErrorBody = z.output<typeof errorSchema>['error']
export type { Schedule }

/** One plan selector: an exact budget, a minimum speed-up, or a cost ceiling. */
export type PlanSelector = { budget: number } | { speedup: number } | { maxCost: number }

/** A PNG answer of generate: the image (a grid for a batch) and the result headers. */
export interface GeneratePng {
  png: Uint8Array
  nfe: number
  keySteps: number[]
  seeds: number[]
  grid: string | null
}

/** The API's error envelope as an exception. `status` 0 means no HTTP answer at all. */
export class ApiClientError extends Error {
  override name = 'ApiClientError'
  readonly code: string
  readonly field?: string
  readonly allowed?: ErrorBody['allowed']
  constructor(
    readonly status: number,
    body: ErrorBody,
  ) {
    super(body.message)
    this.code = body.code
    this.field = body.field
    this.allowed = body.allowed
  }
}

export interface ClientOptions {
  /** Origin (and optional path prefix) of the API; '' for same-origin pages. */
  baseUrl?: string
  /** Bearer token for generate, when the host sets API_TOKEN. */
  token?: string
  fetch?: (input: string, init?: RequestInit) => Promise<Response>
}

export interface Client {
  models(): Promise<ModelsResponse>
  /** The whole schedule file, or with a selector the one plan it picks. */
  schedule(model: string, steps: number): Promise<Schedule>
  schedule(model: string, steps: number, select: PlanSelector): Promise<PlanResponse>
  generate(
    req: GenerateRequest & { format: 'json' },
    init?: { signal?: AbortSignal },
  ): Promise<GenerateJson>
  generate(
    req: GenerateRequest & { format?: 'png' },
    init?: { signal?: AbortSignal },
  ): Promise<GeneratePng>
}

const isEnvelope = (v: unknown): v is { error: ErrorBody } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { error?: { code?: unknown } }).error?.code === 'string'

async function failure(res: Response): Promise<ApiClientError> {
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (isEnvelope(body)) return new ApiClientError(res.status, body.error)
  return new ApiClientError(res.status, {
    code: 'http_error',
    message: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
  })
}

export function createClient(opts: ClientOptions = {}): Client {
  const base = (opts.baseUrl ?? '').replace(/\/$/, '')
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init))
  const call = async (path: string, init?: RequestInit): Promise<Response> => {
    let res: Response
    try {
      res = await doFetch(base + path, init)
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e
      throw new ApiClientError(0, { code: 'network_error', message: (e as Error).message })
    }
    if (!res.ok) throw await failure(res)
    return res
  }
  const enc = encodeURIComponent

  return {
    models: async () => (await call('/v1/models')).json(),

    schedule: (async (model: string, steps: number, select?: PlanSelector) => {
      const query = select
        ? '?' + new URLSearchParams(Object.entries(select).map(([k, v]) => [k, String(v)]))
        : ''
      return (await call(`/v1/schedules/${enc(model)}/${enc(String(steps))}${query}`)).json()
    }) as Client['schedule'],

    generate: (async (req: GenerateRequest, init?: { signal?: AbortSignal }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`
      const res = await call('/v1/generate', {
        method: 'POST',
        headers,
        body: JSON.stringify(req),
        signal: init?.signal,
      })
      if (req.format === 'json') return res.json()
      const list = (name: string) =>
        (res.headers.get(name) ?? '').split(',').filter(Boolean).map(Number)
      return {
        png: new Uint8Array(await res.arrayBuffer()),
        nfe: Number(res.headers.get('x-nfe')),
        keySteps: list('x-key-steps'),
        seeds: list('x-seeds'),
        grid: res.headers.get('x-grid'),
      }
    }) as Client['generate'],
  }
}
