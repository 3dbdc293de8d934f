/**
 * The one JSON error envelope, `{ error: { code, message, field?, allowed? } }`, and the
 * central handlers that produce it. Anything a client can send ends as a 4xx here; only
 * unexpected failures are 500, and those are logged, not echoed.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { PlanError, type PlanErrorKind } from '../core/resolve.ts'
import { SampleAbortedError } from '../core/sampler.ts'
import { ScheduleRefusedError } from '../runtime/schedule-store.ts'
import { QueueAbortedError, QueueFullError, QueueTimeoutError } from '../runtime/queue.ts'

/** What a field accepts: an inclusive range or a list of values. */
export type Allowed = { min?: number; max?: number } | readonly (string | number)[]

export interface ErrorBody {
  code: string
  message: string
  field?: string
  allowed?: Allowed
}

/** An error meant for the client, with its HTTP status. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: ContentfulStatusCode
  readonly body: ErrorBody
  readonly headers: Record<string, string>
  constructor(status: ContentfulStatusCode, body: ErrorBody, headers: Record<string, string> = {}) {
    super(body.message)
    this.status = status
    this.body = body
    this.headers = headers
  }
}

/** Statuses hono raises itself (e.g. 400 for malformed JSON), named for the envelope. */
const HTTP_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
}

/** 499 (nginx's "client closed request"): nobody reads it, but logs stay honest. */
const CLIENT_CLOSED = 499 as ContentfulStatusCode

/** How the plan resolver's error kinds map to statuses. */
const PLAN_STATUS: Record<PlanErrorKind, ContentfulStatusCode> = {
  not_found: 404,
  invalid: 400,
  unavailable: 503, // a deployment problem (stale schedule), not the client's
}

/** Converts a thrown value to the envelope; logs what the client could not have caused. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof QueueFullError) {
    return new ApiError(
      429,
      { code: 'queue_full', message: err.message },
      { 'Retry-After': String(err.retryAfter) },
    )
  }
  if (err instanceof QueueTimeoutError)
    return new ApiError(504, { code: 'timeout', message: err.message })
  if (err instanceof QueueAbortedError || err instanceof SampleAbortedError) {
    return new ApiError(CLIENT_CLOSED, { code: 'client_closed', message: 'the client went away' })
  }
  if (err instanceof ScheduleRefusedError) {
    return new ApiError(503, { code: 'schedule_refused', message: err.message })
  }
  if (err instanceof PlanError) {
    const body: ErrorBody = { code: err.code, message: err.message }
    if (err.field) body.field = err.field
    if (err.allowed) body.allowed = err.allowed
    return new ApiError(PLAN_STATUS[err.kind], body)
  }
  if (err instanceof HTTPException) {
    const code = HTTP_CODES[err.status] ?? 'http_error'
    const message =
      err.status === 400 && /JSON/i.test(err.message)
        ? 'request body is not valid JSON'
        : err.message || code
    return new ApiError(err.status as ContentfulStatusCode, {
      code: code === 'bad_request' ? 'malformed_json' : code,
      message,
    })
  }
  console.error(err)
  return new ApiError(500, { code: 'internal', message: 'internal error' })
}

/** Sends an ApiError as the envelope. */
export function sendError(c: Context, err: ApiError): Response {
  return c.json({ error: err.body }, err.status, err.headers)
}

export const onError: ErrorHandler = (err, c) => sendError(c, toApiError(err))

export const notFound: NotFoundHandler = (c) =>
  sendError(
    c,
    new ApiError(404, { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }),
  )

type Issue = z.core.$ZodIssue

/**
 * A `@hono/zod-validator` hook that turns the first issue into the envelope, naming the field
 * and what it allows (read from the same schema's JSON Schema, so ranges are never restated).
 */
export function validationHook(schema: z.ZodType) {
  type Props = Record<string, { minimum?: number; maximum?: number; enum?: (string | number)[] }>
  // converted on the first invalid request, so building an app stays cheap (Workers isolates)
  let props: Props | undefined
  return (
    result: { success: boolean; error?: { issues: Issue[] } },
    c: Context,
  ): Response | undefined => {
    if (result.success) return undefined
    props ??=
      (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Props })
        .properties ?? {}
    const issue = result.error!.issues[0]
    return sendError(c, new ApiError(400, describeIssue(issue, props)))
  }
}

function describeIssue(
  issue: Issue,
  props: Record<string, { minimum?: number; maximum?: number; enum?: (string | number)[] }>,
): ErrorBody {
  if (issue.code === 'unrecognized_keys') {
    return {
      code: 'unknown_field',
      message: `unknown field '${issue.keys[0]}'`,
      field: issue.keys[0],
      allowed: Object.keys(props),
    }
  }
  const field = issue.path.map(String).join('.')
  if (!field) return { code: 'invalid_body', message: `expected a JSON object: ${issue.message}` }
  const body: ErrorBody = { code: 'invalid_field', message: `${field}: ${issue.message}`, field }
  const p = props[issue.path[0] as string]
  const own =
    issue.code === 'custom'
      ? (issue.params as { allowed?: Allowed } | undefined)?.allowed
      : undefined
  if (own) body.allowed = own
  else if (p?.enum) body.allowed = p.enum
  else if (p && (p.minimum !== undefined || p.maximum !== undefined))
    body.allowed = { min: p.minimum, max: p.maximum }
  return body
}
