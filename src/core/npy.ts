/**
 * NumPy `.npy` reading and writing (format versions 1.0-3.0 read, 1.0 written), for float64
 * and float32 arrays in C order: the bridge to cost tensors calibrated with the paper's
 * Python code (`np.save("pact.npy", C)`).
 */

export interface NpyArray {
  readonly dtype: 'float64' | 'float32'
  readonly shape: readonly number[]
  readonly data: Float64Array | Float32Array
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
const DESCR: Record<string, NpyArray['dtype']> = { '<f8': 'float64', '<f4': 'float32' }

export class NpyError extends Error {
  override name = 'NpyError'
}

/** Parses a `.npy` file. Throws NpyError naming what is unsupported. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) {
    throw new NpyError('not a .npy file (missing \\x93NUMPY magic)')
  }
  const major = bytes[6]
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let headerLen: number
  let offset: number
  if (major === 1) {
    headerLen = view.getUint16(8, true)
    offset = 10
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true)
    offset = 12
  } else {
    throw new NpyError(`unsupported .npy version ${major}.${bytes[7]} (allowed: 1, 2, 3)`)
  }
  const header = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + headerLen))
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1]
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(`malformed .npy header: ${header.trim()}`)
  }
  const dtype = DESCR[descr]
  if (!dtype)
    throw new NpyError(`unsupported dtype '${descr}' (allowed: ${Object.keys(DESCR).join(', ')})`)
  if (fortran === 'True')
    throw new NpyError('Fortran-ordered arrays are not supported (save with C order)')
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number)
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new NpyError(`bad shape (${shapeText})`)
  const count = shape.reduce((a, b) => a * b, 1)
  const start = offset + headerLen
  const width = dtype === 'float64' ? 8 : 4
  if (bytes.length - start < count * width) {
    throw new NpyError(
      `truncated .npy: shape (${shape}) needs ${count * width} bytes, found ${bytes.length - start}`,
    )
  }
  // Copy into an aligned buffer: the payload offset need not be a multiple of 8.
  const raw = bytes.slice(start, start + count * width)
  const data = dtype === 'float64' ? new Float64Array(raw.buffer) : new Float32Array(raw.buffer)
  if (!littleEndianHost()) throw new NpyError('big-endian hosts are not supported')
  return { dtype, shape, data }
}

/** Serialises a C-ordered float array as `.npy` version 1.0 (header padded to 64 bytes). */
export function writeNpy(array: {
  shape: readonly number[]
  data: Float64Array | Float32Array
}): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1)
  if (count !== array.data.length) {
    throw new NpyError(
      `shape (${array.shape}) needs ${count} values, data has ${array.data.length}`,
    )
  }
  const descr = array.data instanceof Float64Array ? '<f8' : '<f4'
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`
  const pad = 64 - ((10 + header.length + 1) % 64)
  header += ' '.repeat(pad % 64) + '\n'
  const out = new Uint8Array(10 + header.length + array.data.byteLength)
  out.set(MAGIC, 0)
  out[6] = 1
  out[7] = 0
  new DataView(out.buffer).setUint16(8, header.length, true)
  for (let k = 0; k < header.length; k++) out[10 + k] = header.charCodeAt(k)
  out.set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
    10 + header.length,
  )
  return out
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
}
