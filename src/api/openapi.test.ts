/**
 * The document is generated from the routes; this checks it against real answers: every status
 * a route gives here is declared for that route, and every JSON body and declared header
 * validates against what the document says (JSON Schema 2020-12, as OpenAPI 3.1 uses).
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { createApp } from './index.ts'
import { localGenerate } from './local.ts'

const store = toyStore()
const engine = await toyEngine()
const app = createApp({
  schedules: store,
  generate: localGenerate(engine, store, { maxQueued: 0 }),
  limits: { maxBatch: 4 },
})
const doc = (await (await app.request('/openapi.json')).json()) as {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          {
            headers?: Record<string, { schema: object }>
            content?: Record<string, { schema: object }>
          }
        >
      }
    >
  >
}
const ajv = new Ajv2020({ strict: false, allErrors: true })

type Case = [name: string, template: string, path: string, init?: RequestInit]
const post = (
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): RequestInit => ({
  method: 'POST',
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
})
const sched = '/v1/schedules/{model}/{steps}'
const cases: Case[] = [
  ['health', '/healthz', '/healthz'],
  ['models', '/v1/models', '/v1/models'],
  ['schedule file', sched, `/v1/schedules/${TOY}/10`],
  ['one plan', sched, `/v1/schedules/${TOY}/10?budget=5`],
  ['bad selector', sched, `/v1/schedules/${TOY}/10?budget=99`],
  ['unknown steps', sched, `/v1/schedules/${TOY}/11`],
  [
    'generate json',
    '/v1/generate',
    '/v1/generate',
    post({ model: TOY, class: 1, seed: 3, budget: 5, format: 'json' }),
  ],
  [
    'generate png',
    '/v1/generate',
    '/v1/generate',
    post({ model: TOY, class: 1, seed: 3, batch: 2 }),
  ],
  ['invalid field', '/v1/generate', '/v1/generate', post({ model: TOY, class: 1, batch: 5 })],
  ['unknown model', '/v1/generate', '/v1/generate', post({ model: 'nope', class: 1 })],
  [
    'too large',
    '/v1/generate',
    '/v1/generate',
    post({ model: TOY, class: 1, pad: 'x'.repeat(5000) }),
  ],
  ['not json', '/v1/generate', '/v1/generate', post('{}', { 'content-type': 'text/plain' })],
]

describe('/openapi.json against real answers', () => {
  it.each(cases)('%s', async (_name, template, path, init) => {
    const res = await app.request(path, init)
    const method = (init?.method ?? 'GET').toLowerCase()
    const declared = doc.paths[template]?.[method]?.responses[String(res.status)]
    expect(
      declared,
      `${res.status} is not declared for ${method.toUpperCase()} ${template}`,
    ).toBeDefined()
    for (const [name, header] of Object.entries(declared!.headers ?? {})) {
      const value = res.headers.get(name)
      expect(value, `header ${name}`).not.toBeNull()
      expect(ajv.validate(header.schema, value), `${name}: ${ajv.errorsText()}`).toBe(true)
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]
    const content = declared!.content?.[type]
    expect(content, `${type} is not declared for ${res.status}`).toBeDefined()
    if (type === 'application/json') {
      expect(ajv.validate(content!.schema, await res.json()), ajv.errorsText()).toBe(true)
    }
  })

  it('shows the limits this app applies', () => {
    const body = (
      doc.paths['/v1/generate'].post as unknown as {
        requestBody: {
          content: Record<string, { schema: { properties: Record<string, { maximum?: number }> } }>
        }
      }
    ).requestBody
    expect(body.content['application/json'].schema.properties.batch.maximum).toBe(4)
  })

  it('a 429 carries the Retry-After the document declares', async () => {
    const req = () =>
      app.request('/v1/generate', post({ model: TOY, class: 1, steps: 20, budget: 20 }))
    const answers = await Promise.all([req(), req(), req()])
    const busy = answers.find((r) => r.status === 429)
    expect(busy, `statuses ${answers.map((r) => r.status)}`).toBeDefined()
    const declared = doc.paths['/v1/generate'].post.responses['429']
    expect(Object.keys(declared.headers ?? {})).toEqual(['Retry-After'])
    expect(busy!.headers.get('retry-after')).toMatch(/^[0-9]+$/)
  })
})
