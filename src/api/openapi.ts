/**
 * Pieces every route definition shares, so `/openapi.json` is generated from the routes
 * themselves (`@hono/zod-openapi`): the error envelope as a response, the headers results
 * carry, and the document's frame. Nothing here restates a path or a schema by hand.
 */
import { z } from '@hono/zod-openapi'
import { errorSchema } from './schemas.ts'

/** An error answer: the one envelope, with the headers that status carries. */
export function errorResponse(description: string, headers?: z.ZodObject) {
  return {
    description,
    content: { 'application/json': { schema: errorSchema } },
    ...(headers ? { headers } : {}),
  }
}

/** Seconds after which a retry has a fair chance (429, 503 while warming up). */
export const retryAfterHeader = z.object({
  'Retry-After': z
    .string()
    .regex(/^[0-9]+$/)
    .describe('Whole seconds to wait before retrying'),
})

/** What a generate result says about its run, on PNG and JSON answers alike. */
export const resultHeaders = z.object({
  'X-Model': z.string().describe('Model that ran'),
  'X-Steps': z.string().describe('Sampler steps'),
  'X-Budget': z.string().describe('Key steps of the plan (trunk evaluations per image)'),
  'X-NFE': z.string().describe('Trunk evaluations of the run (equals the budget)'),
  'X-Key-Steps': z.string().describe('Comma-separated key steps'),
  'X-Batch': z.string().describe('requests=R; items=I: what shared the sampler run'),
  'Server-Timing': z.string().describe('total, queue, trunk and head milliseconds'),
})

/** The document's frame; paths and components come from the registered routes. */
export function documentFrame(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'dpcache-edge',
      version,
      description: 'DPCache key-step schedules (arXiv 2602.22654) and cached diffusion sampling.',
    },
  }
}

export const BEARER = {
  type: 'http' as const,
  scheme: 'bearer',
  description: 'Only when the host sets API_TOKEN',
}
