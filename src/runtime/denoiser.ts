/**
 * Denoisers over ONNX graphs. A trunk + head model caches the last block's hidden states; a
 * single-graph model caches (and forecasts) its output velocity, with an identity head.
 */
import type { Denoiser } from '../core/sampler.ts'
import type { Tensor } from '../core/tensor.ts'
import type { Manifest } from './manifest.ts'
import { ModelError, type Feeds, type GraphSession, type TensorSpec } from './ort.ts'

/** Per-row dims of a spec: everything after the dynamic batch axis, which must be fixed. */
function rowDims(spec: TensorSpec, label: string): number[] {
  const rest = spec.shape.slice(1)
  if (rest.some((d) => typeof d !== 'number')) {
    throw new ModelError(
      `${label}: '${spec.name}' must have a dynamic batch axis and fixed other dims, got [${spec.shape}]`,
    )
  }
  return rest as number[]
}

/** Feeds for the (image-or-feature, sigma, label) signature every graph here shares. */
function feeds(
  inputs: readonly TensorSpec[],
  first: Tensor,
  sigma: number,
  labels: Int32Array,
): Feeds {
  const rows = first.dims[0]
  return {
    [inputs[0].name]: { data: first.data, dims: first.dims },
    [inputs[1].name]: { data: new Float32Array(rows).fill(sigma), dims: [rows] },
    [inputs[2].name]: { data: BigInt64Array.from(labels, (l) => BigInt(l)), dims: [rows] },
  }
}

function only(out: Record<string, { data: Float32Array; dims: number[] }>, name: string): Tensor {
  return out[name]
}

export class TrunkHeadDenoiser implements Denoiser {
  readonly imageDims: readonly number[]
  readonly featureDims: readonly number[]
  readonly nullClass: number

  constructor(
    private readonly manifest: Extract<Manifest, { kind: 'trunk-head' }>,
    private readonly trunkSession: GraphSession,
    private readonly headSession: GraphSession,
  ) {
    const { trunk, head } = manifest.graphs
    for (const g of [trunk, head]) {
      if (g.inputs.length !== 3)
        throw new ModelError(
          `${manifest.id}: each graph takes (input, t, y), got ${g.inputs.length} inputs`,
        )
    }
    this.imageDims = rowDims(trunk.inputs[0], manifest.id)
    this.featureDims = rowDims(trunk.outputs[0], manifest.id)
    this.nullClass = manifest.nullClass
  }

  async trunk(x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor> {
    const g = this.manifest.graphs.trunk
    return only(await this.trunkSession.run(feeds(g.inputs, x, sigma, labels)), g.outputs[0].name)
  }

  async head(h: Tensor, _x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor> {
    const g = this.manifest.graphs.head
    return only(await this.headSession.run(feeds(g.inputs, h, sigma, labels)), g.outputs[0].name)
  }
}

export class SingleGraphDenoiser implements Denoiser {
  readonly imageDims: readonly number[]
  readonly featureDims: readonly number[]
  readonly nullClass: number

  constructor(
    private readonly manifest: Extract<Manifest, { kind: 'single' }>,
    private readonly session: GraphSession,
  ) {
    const g = manifest.graphs.model
    if (g.inputs.length !== 3)
      throw new ModelError(
        `${manifest.id}: the graph takes (x, t, y), got ${g.inputs.length} inputs`,
      )
    this.imageDims = rowDims(g.inputs[0], manifest.id)
    this.featureDims = this.imageDims // the cached "feature" is the velocity itself
    this.nullClass = manifest.nullClass
  }

  async trunk(x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor> {
    const g = this.manifest.graphs.model
    return only(await this.session.run(feeds(g.inputs, x, sigma, labels)), g.outputs[0].name)
  }

  async head(h: Tensor): Promise<Tensor> {
    return h
  }
}
