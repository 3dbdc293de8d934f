/**
 * The static side of the Node host: which paths reach the disk (pages.ts's patterns, then
 * @hono/node-server's serve-static), and that nothing outside the allowed folders and file
 * kinds can be read, however the path is spelled.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../api/index.ts'
import { memoryScheduleStore } from '../runtime/schedule-store.ts'
import { fileAssets } from './files.ts'

let dir: string
let app: ReturnType<typeof createApp>
const SECRET = 'do not serve'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpcache-files-'))
  const files: Record<string, string> = {
    'secret.txt': SECRET,
    'public/index.html': '<!doctype html><title>playground</title>',
    'public/static/app/main.js': 'console.log(1)',
    'public/static/.env': SECRET,
    'public/secret.txt': SECRET,
    'models/m1/manifest.json': '{"id":"m1"}',
    'models/m1/trunk.onnx': 'onnx-bytes',
    'models/m1/notes.txt': SECRET,
    'schedules/index.json': '{"models":[]}',
    'schedules/m1/50.json': '{"steps":50}',
    'schedules/m1/50.pact.npy': 'npy',
    'schedules/m1/other.txt': SECRET,
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  const assets = fileAssets(serveStatic, {
    public: join(dir, 'public'),
    models: join(dir, 'models'),
    schedules: join(dir, 'schedules'),
  })
  app = createApp({ schedules: memoryScheduleStore([]), assets })
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const text = async (path: string) => {
  const res = await app.request(path)
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') }
}

describe('static files on the Node host', () => {
  it('serves the page, its assets, model graphs and schedule files', async () => {
    expect(await text('/')).toMatchObject({
      status: 200,
      body: expect.stringContaining('playground'),
    })
    expect((await text('/')).type).toMatch(/^text\/html/)
    expect(await text('/static/app/main.js')).toMatchObject({ status: 200, body: 'console.log(1)' })
    expect(await text('/models/m1/manifest.json')).toMatchObject({
      status: 200,
      body: '{"id":"m1"}',
    })
    expect(await text('/models/m1/trunk.onnx')).toMatchObject({ status: 200, body: 'onnx-bytes' })
    expect(await text('/schedules/index.json')).toMatchObject({ status: 200 })
    expect(await text('/schedules/m1/50.pact.npy')).toMatchObject({ status: 200, body: 'npy' })
    expect((await app.request('/static/app/main.js')).headers.get('cache-control')).toBe(
      'public, max-age=300',
    )
  })

  it('serves only the allowed file kinds in models/ and schedules/', async () => {
    for (const path of [
      '/models/m1/notes.txt',
      '/schedules/m1/other.txt',
      '/secret.txt',
      '/static/.env',
    ]) {
      const r = await text(path)
      expect(r.status, path).toBe(404)
      expect(r.body).not.toContain(SECRET)
      expect(JSON.parse(r.body).error.code).toBe('not_found')
    }
  })

  it('never reads outside its folders, however the path is spelled', async () => {
    const attempts = [
      '/static/../secret.txt',
      '/static/%2e%2e/secret.txt',
      '/static/..%2fsecret.txt',
      '/static/..%2F..%2Fsecret.txt',
      '/static/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/static/..\\..\\secret.txt',
      '/static//secret.txt',
      '/static/app/%00main.js',
      '/models/..%2f..%2f/secret.txt',
      '/models/m1/..%2f..%2fsecret.txt',
      '/models/%2e%2e/manifest.json',
      '/schedules/..%2f..%2fsecret.txt/50.json',
      '/schedules/m1/..%2f..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
    ]
    for (const path of attempts) {
      const r = await text(path)
      expect(r.status, path).toBe(404)
      expect(r.body, path).not.toContain(SECRET)
    }
  })

  it('/docs is the reference UI on /openapi.json with assets from this host only', async () => {
    const r = await text('/docs')
    expect(r.status).toBe(200)
    expect(r.body).toContain("url: '/openapi.json'")
    expect(r.body).toContain('/static/swagger-ui-dist/swagger-ui-bundle.js')
    expect(r.body).toContain('/static/swagger-ui-dist/swagger-ui.css')
    expect(r.body).not.toMatch(/https?:\/\//)
  })

  it('without static files the app keeps answering / and /docs with the 404 envelope', async () => {
    const bare = createApp({ schedules: memoryScheduleStore([]) })
    for (const path of ['/', '/docs', '/static/app/main.js']) {
      const res = await bare.request(path)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
    }
  })
})
