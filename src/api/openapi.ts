/**
 * GET /openapi.json, generated from the zod schemas the routes validate with (zod 4's
 * `z.toJSONSchema`), never written by hand.
 */
import { z } from 'zod'
import { scheduleSchema } from '../core/schedule.ts'
import {
  errorSchema,
  generateJsonSchema,
  generateRequestSchema,
  healthSchema,
  modelsResponseSchema,
  planResponseSchema,
  scheduleQuerySchema,
  type Limits,
} from './schemas.ts'

type Json = Record<string, unknown>

const schemaOf = (s: z.ZodType, io: 'input' | 'output' = 'output'): Json => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json
  return rest
}

const json = (s: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schemaOf(s) } },
})
const ERROR = { $ref: '#/components/schemas/Error' }
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ERROR } },
})

/** Builds the OpenAPI 3.1 document for the limits this app was created with. */
export function openApiDocument(limits: Limits, version: string): Json {
  const query = schemaOf(scheduleQuerySchema, 'input') as { properties: Record<string, Json> }
  return {
    openapi: '3.1.0',
    info: {
      title: 'dpcache-edge',
      version,
      description: 'DPCache key-step schedules (arXiv 2602.22654) and cached diffusion sampling.',
    },
    components: {
      schemas: { Error: schemaOf(errorSchema) },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Only when the host sets API_TOKEN',
        },
      },
    },
    paths: {
      '/healthz': { get: { summary: 'Liveness', responses: { 200: json(healthSchema, 'Up') } } },
      '/v1/models': {
        get: {
          summary: 'Models, their step counts and budgets',
          responses: { 200: json(modelsResponseSchema, 'Models') },
        },
      },
      '/v1/schedules/{model}/{steps}': {
        get: {
          summary: 'A schedule file, or one plan of it',
          parameters: [
            { name: 'model', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'steps', in: 'path', required: true, schema: { type: 'integer' } },
            ...Object.entries(query.properties).map(([name, schema]) => ({
              name,
              in: 'query',
              required: false,
              schema,
            })),
          ],
          responses: {
            200: {
              description:
                'The schedule file (no selector) or one plan; ETag and immutable caching',
              content: {
                'application/json': {
                  schema: { oneOf: [schemaOf(scheduleSchema), schemaOf(planResponseSchema)] },
                },
              },
            },
            304: { description: 'Not modified (If-None-Match)' },
            400: err('Bad selector, naming the field and what it allows'),
            404: err('Unknown model or steps, listing what exists'),
          },
        },
      },
      '/v1/generate': {
        post: {
          summary: 'Generate images with a DPCache plan',
          security: [{}, { bearer: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: schemaOf(generateRequestSchema(limits), 'input') },
            },
          },
          responses: {
            200: {
              description:
                'png: one PNG (a grid for batch > 1); json: base64 PNGs, key steps and timing',
              content: {
                'image/png': { schema: { type: 'string', format: 'binary' } },
                'application/json': { schema: schemaOf(generateJsonSchema) },
              },
            },
            400: err('Invalid field or malformed JSON'),
            401: err('Missing or wrong bearer token'),
            404: err('Unknown model or steps'),
            413: err('Body too large'),
            415: err('Not application/json'),
            429: err('Queue full; see Retry-After'),
            503: err('No generate backend on this host'),
            504: err('Timed out'),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
    },
  }
}
