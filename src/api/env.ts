/**
 * The whole host environment, validated by one schema at boot. A typo must stop the host with
 * one line naming the variable, the value and what is allowed, never start a service that
 * answers every request 504 ("within NaN ms") or 429 (`MAX_QUEUED=`) or locks every client out
 * (`API_TOKEN` with a trailing newline).
 *
 *   const env = parseHostEnv(process.env)   // throws EnvError; Node and Deno exit 2 on it
 *
 * Variables are strings in the environment; each is parsed strictly (`30s`, `64x`, ``, `0x10`
 * and ` 10 ` are not integers). Unknown variables are ignored: a process environment holds
 * many that are not ours.
 */
import { MODEL_ID_PATTERN } from '../core/schedule.ts'
import { CORS_ORIGINS_ALLOWED, parseCorsOrigins } from './cors.ts'
import { DEFAULT_LIMITS } from './schemas.ts'

/** Backends a host may be asked for; which of them work depends on the host (see ort.ts). */
export const BACKEND_NAMES = ['wasm', 'webgpu', 'cpu', 'cuda'] as const
export type BackendName = (typeof BACKEND_NAMES)[number]

/** A bad variable: what the one-line boot error says. */
export class EnvError extends Error {
  override name = 'EnvError'
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${allowed}`)
  }
}

interface Spec<T> {
  /** What the one-line error says is allowed. */
  allowed: string
  parse(raw: string): T | undefined
}

const DIGITS = /^[0-9]{1,15}$/

/** A decimal integer in [min, max], written plainly. */
function int(min: number, max: number): Spec<number> {
  return {
    allowed: `an integer in [${min}, ${max}]`,
    parse: (raw) => {
      if (!DIGITS.test(raw)) return undefined
      const n = Number(raw)
      return n >= min && n <= max ? n : undefined
    },
  }
}

function oneOf<T extends string>(values: readonly T[]): Spec<T> {
  return {
    allowed: `one of ${values.join(', ')}`,
    parse: (raw) => (values.includes(raw as T) ? (raw as T) : undefined),
  }
}

const isHttpUrl = (raw: string) => /^https?:\/\/[^\s,]+$/.test(raw) && URL.canParse(raw)

const specs = {
  PORT: int(0, 65_535),
  /** Listen address: 127.0.0.1 by default, 0.0.0.0 in the container. */
  HOST: {
    allowed: 'an IP address or host name to listen on (e.g. 127.0.0.1, 0.0.0.0, ::)',
    parse: (raw: string) => (/^[A-Za-z0-9.:-]{1,253}$/.test(raw) ? raw : undefined),
  },
  /** Comma list of model folders to load. */
  MODELS: {
    allowed: 'a comma-separated list of model ids (a-z, 0-9, ".", "_", "-"), no spaces',
    parse: (raw: string) => {
      const ids = raw.split(',')
      return ids.every((id) => MODEL_ID_PATTERN.test(id)) ? ids : undefined
    },
  },
  MODELS_DIR: { allowed: 'a directory path', parse: (raw: string) => raw || undefined },
  SCHEDULES_DIR: { allowed: 'a directory path', parse: (raw: string) => raw || undefined },
  BACKEND: oneOf(BACKEND_NAMES),
  ORT_THREADS: int(1, 256),
  /** all: run every graph at every batch size served before /readyz is 200; off: skip that. */
  WARMUP: oneOf(['all', 'off'] as const),
  /** Printable ASCII without spaces: a pasted newline would lock every client out. */
  API_TOKEN: {
    allowed:
      'printable ASCII without whitespace, 1 to 512 characters (check for a trailing newline)',
    parse: (raw: string) => (/^[\x21-\x7e]{1,512}$/.test(raw) ? raw : undefined),
  },
  MAX_BATCH: int(1, 256),
  BATCH_WINDOW_MS: int(0, 10_000),
  MAX_QUEUED: int(0, 100_000),
  TIMEOUT_MS: int(100, 3_600_000),
  /** The Worker's generate endpoints, comma-separated: its pool of hosts (api/pool-env.ts). */
  GENERATE_URLS: {
    allowed: 'comma-separated http(s) URLs, e.g. https://gpu-1.example.com/v1/generate',
    parse: (raw: string) => {
      const urls = raw.split(',').map((u) => u.trim())
      return urls.every(isHttpUrl) ? urls : undefined
    },
  },
  /** One generate endpoint: an alias for a one-element GENERATE_URLS. */
  GENERATE_URL: {
    allowed: 'an http(s) URL',
    parse: (raw: string) => (isHttpUrl(raw) ? raw : undefined),
  },
  /** How long the Worker tries a failed host only after the others. */
  POOL_COOLDOWN_MS: int(0, 3_600_000),
  /** A generate request's deadline at the Worker, over all its attempts. */
  POOL_TIMEOUT_MS: int(100, 3_600_000),
  /** Browser origins allowed to call the API (every host); unset or empty: no CORS. */
  CORS_ORIGINS: { allowed: CORS_ORIGINS_ALLOWED, parse: parseCorsOrigins },
} satisfies Record<string, Spec<unknown>>

type Specs = typeof specs
export type HostEnv = { -readonly [K in keyof Specs]?: NonNullable<ReturnType<Specs[K]['parse']>> }

/** Variables whose values must never be echoed (the error shows their length instead). */
const SECRET = new Set<string>(['API_TOKEN'])

/**
 * Parses the variables this project reads. An unset variable stays undefined (its default
 * applies where it is used); a set one must parse, empty included.
 */
export function parseHostEnv(raw: Readonly<Record<string, unknown>>): HostEnv {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs) as [string, Spec<unknown>][]) {
    const value = raw[name]
    if (value === undefined) continue
    const text = typeof value === 'string' ? value : undefined
    const parsed = text === undefined ? undefined : spec.parse(text)
    if (parsed === undefined) {
      const shown = SECRET.has(name)
        ? `<${String(text ?? '').length} characters${/\s/.test(text ?? '') ? ', with whitespace' : ''}>`
        : String(text ?? typeof value)
      throw new EnvError(name, shown, spec.allowed)
    }
    out[name] = parsed
  }
  return out as HostEnv
}

/** The generate limits a host really applies, for its schemas and /openapi.json. */
export function limitsFromEnv(env: HostEnv) {
  return { ...DEFAULT_LIMITS, maxBatch: env.MAX_BATCH ?? DEFAULT_LIMITS.maxBatch }
}
