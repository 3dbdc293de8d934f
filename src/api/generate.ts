/**
 * POST /v1/generate. The checks run cheapest first and in the order a client would fix
 * them: token (401), a backend at all (503), media type and encoding (415), size (413), JSON
 * syntax (400), schema (400); then the backend resolves the plan and runs the request.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { timingSafeEqual } from 'hono/utils/buffer'
import type { GenerateBackend } from './backend.ts'
import { ApiError, validationHook } from './errors.ts'
import { errorResponse, resultHeaders, retryAfterHeader } from './openapi.ts'
import {
  generateJsonSchema,
  generateRequestSchema,
  type GenerateRequest,
  type Limits,
} from './schemas.ts'

/** Bearer token check; a no-op when no token is configured (schedules never need one). */
export function requireToken(token: string | undefined): MiddlewareHandler {
  return async function requireToken(c, next) {
    if (!token) return next()
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
    if (!m || !(await timingSafeEqual(m[1], token))) {
      throw new ApiError(
        401,
        {
          code: 'unauthorized',
          message: m ? 'invalid token' : 'send Authorization: Bearer <token>',
        },
        { 'WWW-Authenticate': 'Bearer realm="generate"' },
      )
    }
    return next()
  }
}

function requireBackend(backend: GenerateBackend | undefined): MiddlewareHandler {
  return async function requireBackend(_c, next) {
    if (!backend) {
      throw new ApiError(503, {
        code: 'generate_unavailable',
        message:
          'no generate backend on this host: workerd cannot compile onnxruntime wasm at run ' +
          'time, so bind a GPU host as the GENERATE service or set GENERATE_URL',
      })
    }
    return next()
  }
}

const JSON_TYPE = /^application\/json\s*(;|$)/i

/** 415 unless the body is declared JSON and not encoded (checked before reading any of it). */
const requireJson: MiddlewareHandler = async function requireJson(c, next) {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, {
      code: 'unsupported_media_type',
      message: 'send the request as application/json',
      field: 'content-type',
      allowed: ['application/json'],
    })
  }
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity') {
    throw new ApiError(415, {
      code: 'unsupported_media_type',
      message: `request bodies are read as sent: Content-Encoding '${encoding}' is not supported`,
      field: 'content-encoding',
      allowed: ['identity'],
    })
  }
  return next()
}

/**
 * Answers that leave the body unread end the connection and cancel the stream: a client that
 * reuses a pooled connection would otherwise send its next request into the rest of this
 * body (Node), and an unread stream must not keep the isolate busy (workerd).
 */
const releaseUnreadBody: MiddlewareHandler = async function releaseUnreadBody(c, next) {
  await next()
  if (c.res.status >= 400 && c.req.raw.body && !c.req.raw.bodyUsed) {
    await c.req.raw.body.cancel().catch(() => undefined)
    c.res.headers.set('Connection', 'close')
  }
}

/**
 * The size limit, on the declared length first and then on what arrives (chunked bodies);
 * what it stops reading it cancels.
 */
function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () =>
    new ApiError(
      413,
      {
        code: 'payload_too_large',
        message: `request body over ${maxSize} bytes`,
        allowed: { max: maxSize },
      },
      { Connection: 'close' },
    )
  return async function limitBody(c, next) {
    const body = c.req.raw.body
    if (!body) return next()
    const declared = c.req.header('content-length')
    if (declared !== undefined && !c.req.header('transfer-encoding')) {
      if (!/^[0-9]+$/.test(declared) || Number(declared) > maxSize) {
        await body.cancel().catch(() => undefined)
        throw tooLarge()
      }
      return next()
    }
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > maxSize) {
        await discard(reader, DRAIN_BYTES)
        throw tooLarge()
      }
      chunks.push(value)
    }
    const whole = new Uint8Array(size)
    let at = 0
    for (const chunk of chunks) whole.set(chunk, (at += chunk.length) - chunk.length)
    c.req.raw = new Request(c.req.raw, { body: whole })
    return next()
  }
}

/** How much of an oversized body is read and dropped so the connection stays in step. */
const DRAIN_BYTES = 1 << 20

/**
 * Reads and drops up to `limit` more bytes, then cancels whatever is left: a small overflow
 * is consumed (the peer finishes sending and the connection stays usable), a huge one is cut.
 */
async function discard(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<void> {
  try {
    for (let read = 0; read <= limit;) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.length
    }
    await reader.cancel()
  } catch {
    // the peer went away: nothing left to keep in step
  }
}

/** Parses once, so malformed JSON gets its own code (hono caches the body for the validator). */
const parseJson: MiddlewareHandler = async function parseJson(c, next) {
  try {
    await c.req.json()
  } catch {
    throw new ApiError(400, { code: 'malformed_json', message: 'request body is not valid JSON' })
  }
  return next()
}

export function generateRoute(
  limits: Limits,
  backend: GenerateBackend | undefined,
  token: string | undefined,
) {
  const schema = generateRequestSchema(limits)
  return {
    schema,
    route: createRoute({
      method: 'post',
      path: '/v1/generate',
      summary: 'Generate images with a DPCache plan',
      security: [{}, { bearer: [] }],
      middleware: [
        releaseUnreadBody,
        requireToken(token),
        requireBackend(backend),
        requireJson,
        limitBody(limits.bodyBytes),
        parseJson,
      ] as const,
      request: { body: { required: true, content: { 'application/json': { schema } } } },
      responses: {
        200: {
          description:
            'png: one PNG (a grid for batch > 1); json: base64 PNGs, key steps and timing',
          headers: resultHeaders,
          content: {
            'image/png': { schema: z.string().openapi({ format: 'binary' }) },
            'application/json': { schema: generateJsonSchema },
          },
        },
        400: errorResponse('Invalid field or malformed JSON, naming the field and what it allows'),
        401: errorResponse('Missing or wrong bearer token'),
        404: errorResponse('Unknown model or steps, listing what exists'),
        413: errorResponse('Body too large'),
        415: errorResponse('Not application/json, or an encoded body'),
        429: errorResponse(
          'Queue full (Worker: every host busy); Retry-After estimates the wait',
          retryAfterHeader,
        ),
        499: errorResponse('The client went away (logged; nobody reads it)'),
        503: errorResponse(
          'No generate backend here, a refused schedule, a host not ready yet, or (Worker) no host could answer, with Retry-After',
        ),
        504: errorResponse(
          'Not finished within TIMEOUT_MS (queueing plus running), or POOL_TIMEOUT_MS at the Worker',
        ),
      },
    }),
  }
}

export function registerGenerate(
  app: OpenAPIHono,
  backend: GenerateBackend | undefined,
  limits: Limits,
  token: string | undefined,
): void {
  const { schema, route } = generateRoute(limits, backend, token)
  // the route's middleware tuple hides the validated type from inference; the schema is `schema`
  app.openapi(
    route,
    (c) => backend!.handle(c.req.valid('json' as never) as GenerateRequest, c) as never,
    validationHook(schema),
  )
}
