import { OnnxDataType, type OnnxAttributeValue, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** Collects ONNX nodes and initializers, handing out tensor names that never collide. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  /** Claims an exact name (graph input/output names); throws if already taken. */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph: tensor name ${JSON.stringify(name)} is used twice`);
    this.used.add(name);
    return name;
  }

  /** A new unique name derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}__${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output; returns the output name (fresh unless given). */
  add(opType: string, inputs: string[], attributes: Record<string, OnnxAttributeValue> = {}, base = opType, output?: string): string {
    const out = output ?? this.fresh(base);
    this.nodes.push({ opType, inputs, outputs: [out], name: out, attributes });
    return out;
  }

  floatInit(base: string, dims: number[], data: Float32Array): string {
    return this.init(base, OnnxDataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  int64Init(base: string, values: readonly number[], dims: number[] = [values.length]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    return this.init(base, OnnxDataType.INT64, dims, raw);
  }

  int32Init(base: string, dims: number[], data: Int32Array): string {
    return this.init(base, OnnxDataType.INT32, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  private init(base: string, dataType: OnnxDataType, dims: number[], raw: Uint8Array): string {
    const name = this.fresh(base);
    // raw_data is little-endian; typed arrays are in host order, little-endian on the platforms onnxruntime-node ships for
    this.initializers.push({ name, dataType, dims, raw });
    return name;
  }
}
