/**
 * Minimal dense tensors: a Float32Array plus explicit dims, row-major, batch first.
 * Deliberately tiny: the heavy lifting happens inside onnxruntime; the core only needs
 * element-wise maths on latents and features.
 */
export interface Tensor {
  readonly data: Float32Array
  readonly dims: readonly number[]
}

/** Number of elements implied by `dims`. */
export function sizeOf(dims: readonly number[]): number {
  let n = 1
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in [${dims}]`)
    n *= d
  }
  return n
}

/** Wraps `data` with `dims`, checking that the sizes agree. */
export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  const n = sizeOf(dims)
  if (data.length !== n) {
    throw new RangeError(`tensor data has ${data.length} elements but dims [${dims}] need ${n}`)
  }
  return { data, dims: [...dims] }
}

/** Concatenates tensors along the leading (batch) axis; trailing dims must match. */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError('concatBatch needs at least one tensor')
  const tail = parts[0].dims.slice(1)
  let batch = 0
  for (const p of parts) {
    if (p.dims.length !== tail.length + 1 || p.dims.slice(1).some((d, k) => d !== tail[k])) {
      throw new RangeError(`cannot concat [${p.dims}] with [${parts[0].dims}] along batch`)
    }
    batch += p.dims[0]
  }
  const out = new Float32Array(batch * sizeOf(tail))
  let offset = 0
  for (const p of parts) {
    out.set(p.data, offset)
    offset += p.data.length
  }
  return { data: out, dims: [batch, ...tail] }
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch ${a.length} vs ${b.length}`)
  let m = 0
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]))
  return m
}
