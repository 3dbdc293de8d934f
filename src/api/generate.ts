/**
 * POST /v1/generate. The checks run cheapest first and in the order a client would fix
 * them: token (401), a backend at all (503), media type (415), size (413), JSON syntax
 * (400), schema (400); then the backend resolves model, steps and budget and runs the request.
 */
import { zValidator } from '@hono/zod-validator'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { timingSafeEqual } from 'hono/utils/buffer'
import type { GenerateBackend } from './backend.ts'
import { ApiError, validationHook } from './errors.ts'
import { generateRequestSchema, type Limits } from './schemas.ts'

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

/** 415 unless the body is declared JSON (checked before reading any of it). */
const requireJson: MiddlewareHandler = async function requireJson(c, next) {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, {
      code: 'unsupported_media_type',
      message: 'send the request as application/json',
      allowed: ['application/json'],
    })
  }
  return next()
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

export function generateRoutes(
  backend: GenerateBackend | undefined,
  limits: Limits,
  token: string | undefined,
): Hono {
  const schema = generateRequestSchema(limits)
  return new Hono().post(
    '/v1/generate',
    requireToken(token),
    requireBackend(backend),
    requireJson,
    bodyLimit({
      maxSize: limits.bodyBytes,
      onError: () => {
        throw new ApiError(413, {
          code: 'payload_too_large',
          message: `request body over ${limits.bodyBytes} bytes`,
          allowed: { max: limits.bodyBytes },
        })
      },
    }),
    parseJson,
    zValidator('json', schema, validationHook(schema)),
    (c) => backend!.handle(c.req.valid('json'), c),
  )
}
