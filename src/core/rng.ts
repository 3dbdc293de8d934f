/**
 * Portable seeded random numbers. Only 32-bit integer ops (`Math.imul`, shifts) feed the
 * stream, so the same seed yields the same bits on Node, Deno, workerd and browsers. The
 * Gaussian transform uses Math.log/cos/sqrt, which all V8-based hosts compute identically;
 * other engines may differ in the last ulp, well inside any image tolerance.
 */

/** splitmix32 step: used to expand one seed into independent 32-bit state words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
  return [next, (z ^ (z >>> 15)) >>> 0]
}

/** xoshiro128** generator; period 2^128 - 1. */
export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spare: number | null = null

  /** `seed` is any integer in [0, 2^53); the high and low halves both feed the state. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`)
    }
    let st = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x85ebca6b)
    const words: number[] = []
    for (let k = 0; k < 4; k++) {
      const [next, out] = splitmix32(st)
      st = next
      words.push(out)
    }
    ;[this.s0, this.s1, this.s2, this.s3] = words
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5
    const lo = this.nextUint32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Standard normal sample (Box-Muller; the second value of each pair is kept). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    const u1 = 1 - this.uniform() // in (0, 1]: log never sees 0
    const u2 = this.uniform()
    const r = Math.sqrt(-2 * Math.log(u1))
    this.spare = r * Math.sin(2 * Math.PI * u2)
    return r * Math.cos(2 * Math.PI * u2)
  }

  /** Fills `out` with standard normal samples and returns it. */
  fillNormal(out: Float32Array): Float32Array {
    for (let k = 0; k < out.length; k++) out[k] = this.normal()
    return out
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** Initial noise for one image: a fresh generator per seed, so batching never changes it. */
export function gaussianNoise(seed: number, size: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(size))
}
