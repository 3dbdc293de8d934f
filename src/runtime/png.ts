/**
 * PNG output for generated images: model pixels are channel-first floats in [-1, 1] (the
 * rectified-flow data range); PNG wants interleaved 8-bit samples. Several images become one
 * near-square grid with no gutter, so a client can cut tiles at exact multiples of the size.
 */
import { encode } from 'fast-png'

export interface ImageDims {
  channels: number
  height: number
  width: number
}

/** Grid layout for `count` tiles: columns = ceil(sqrt(count)), rows as needed. */
export function gridShape(count: number): { columns: number; rows: number } {
  const columns = Math.ceil(Math.sqrt(count))
  return { columns, rows: Math.ceil(count / columns) }
}

/** [-1, 1] -> 0..255, rounded, clamped (samplers overshoot a little). */
function toByte(x: number): number {
  const v = Math.round((x + 1) * 127.5)
  return v < 0 ? 0 : v > 255 ? 255 : Number.isNaN(v) ? 0 : v
}

/**
 * Encodes one image or a grid of them. 1 channel -> grayscale, 3 -> RGB; empty grid cells
 * are black. Returns the PNG bytes and the grid it used.
 */
export function encodePng(
  images: readonly Float32Array[],
  dims: ImageDims,
): { png: Uint8Array; columns: number; rows: number } {
  const { channels: c, height: h, width: w } = dims
  if (c !== 1 && c !== 3) throw new RangeError(`PNG output needs 1 or 3 channels, got ${c}`)
  if (images.length < 1) throw new RangeError('nothing to encode')
  const plane = h * w
  for (const img of images) {
    if (img.length !== c * plane)
      throw new RangeError(`expected ${c}x${h}x${w} pixels, got ${img.length}`)
  }
  const { columns, rows } = gridShape(images.length)
  const width = columns * w
  const data = new Uint8Array(rows * h * width * c)
  images.forEach((img, k) => {
    const x0 = (k % columns) * w
    const y0 = Math.floor(k / columns) * h
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const out = ((y0 + y) * width + x0 + x) * c
        for (let ch = 0; ch < c; ch++) data[out + ch] = toByte(img[ch * plane + y * w + x])
      }
    }
  })
  return { png: encode({ width, height: rows * h, data, channels: c, depth: 8 }), columns, rows }
}
