/**
 * Image plumbing for the playground: the server sends base64 PNGs, the browser engine float
 * pixels. Both end as PNG bytes from the same encoder (src/runtime/png.ts), so "the browser's
 * digit equals the server's" can be checked byte for byte, and PSNR is computed on the 8-bit
 * images the user sees, mapped back to [-1, 1].
 */
import { decode } from 'fast-png'
import { psnr } from '../src/core/metrics.ts'
import { encodePng, type ImageDims } from '../src/runtime/png.ts'

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64)
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0))
}

export function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (let k = 0; k < bytes.length; k += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(k, k + 0x8000))
  }
  return btoa(s)
}

export function pngOf(pixels: Float32Array, dims: ImageDims): Uint8Array {
  return encodePng([pixels], dims).png
}

/** PNG -> model units: 8-bit samples mapped to [-1, 1]. */
export function unitPixels(png: Uint8Array): Float32Array {
  const img = decode(png)
  return Float32Array.from(img.data as Uint8Array, (v) => v / 127.5 - 1)
}

/** PSNR (dB, [0, 1] scale) between two PNGs of the same size. */
export function pngPsnr(a: Uint8Array, b: Uint8Array): number {
  return psnr(unitPixels(a), unitPixels(b))
}

/** Largest per-pixel difference in [0, 1] units (0 for identical images). */
export function maxPixelDiff(a: Uint8Array, b: Uint8Array): number {
  const x = unitPixels(a)
  const y = unitPixels(b)
  if (x.length !== y.length) return Infinity
  let m = 0
  for (let k = 0; k < x.length; k++) m = Math.max(m, Math.abs(x[k] - y[k]) / 2)
  return m
}
