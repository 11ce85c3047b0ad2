/** Decodes the weight shards of a tfjs graph model into float32/int32 arrays, dequantising as tfjs-core does. */

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface DecodedWeight {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Weights in manifest order read from the concatenated shards (as tfjs-core's decodeWeights). */
export function decodeTfjsWeights(manifest: readonly TfjsWeightGroup[], weightData: Uint8Array | ArrayBuffer): Map<string, DecodedWeight> {
  const bytes = weightData instanceof Uint8Array ? weightData : new Uint8Array(weightData);
  const out = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of manifest.flatMap((g) => g.weights)) {
    const n = elementCount(spec.shape);
    const q = spec.quantization;
    const bytesPer = q ? quantizedSize(spec, q.dtype) : plainSize(spec);
    if (offset + n * bytesPer > bytes.byteLength) {
      throw new Error(`tfjs weights: ${spec.name} needs bytes ${offset}..${offset + n * bytesPer} but the shards hold ${bytes.byteLength}`);
    }
    // slice() copies into a fresh, aligned buffer; typed arrays read it in host order (little-endian, as tfjs writes)
    const chunk = bytes.slice(offset, offset + n * bytesPer).buffer;
    const stored = bytesPer === 1 ? new Uint8Array(chunk) : bytesPer === 2 ? new Uint16Array(chunk) : undefined;
    let data: Float32Array | Int32Array;
    if (spec.dtype === 'float32') {
      if (!q) data = new Float32Array(chunk);
      else if (q.dtype === 'float16') {
        const table = float16Table();
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = table[stored![i]];
      } else {
        const { scale, min } = scaleAndMin(spec);
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = stored![i] * scale + min;
      }
    } else if (spec.dtype === 'int32') {
      if (!q) data = new Int32Array(chunk);
      else {
        if (q.dtype === 'float16') throw new Error(`tfjs weights: ${spec.name}: float16 quantization of an int32 weight is not supported`);
        const { scale, min } = scaleAndMin(spec);
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.round(stored![i] * scale + min);
      }
    } else {
      throw new Error(`tfjs weights: ${spec.name} has unsupported dtype ${spec.dtype}`);
    }
    out.set(spec.name, { dtype: spec.dtype, shape: [...spec.shape], data });
    offset += n * bytesPer;
  }
  return out;
}

let halfToFloat: Float32Array | undefined;

/** All 65536 half-precision values as float32, built once. */
function float16Table(): Float32Array {
  if (!halfToFloat) {
    halfToFloat = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfToFloat[h] = float16ToFloat32(h);
  }
  return halfToFloat;
}

function plainSize(spec: TfjsWeightSpec): number {
  if (spec.dtype === 'float32' || spec.dtype === 'int32') return 4;
  throw new Error(`tfjs weights: ${spec.name} has unsupported dtype ${spec.dtype}`);
}

function quantizedSize(spec: TfjsWeightSpec, qdtype: string): number {
  if (qdtype === 'uint8') return 1;
  if (qdtype === 'uint16' || qdtype === 'float16') return 2;
  throw new Error(`tfjs weights: ${spec.name} has unsupported quantization dtype ${qdtype}`);
}

function scaleAndMin(spec: TfjsWeightSpec): { scale: number; min: number } {
  const { scale, min } = spec.quantization ?? {};
  if (typeof scale !== 'number' || typeof min !== 'number') {
    throw new Error(`tfjs weights: ${spec.name} is ${spec.quantization?.dtype}-quantized but lacks scale/min`);
  }
  return { scale, min };
}

/** IEEE 754 half → single (exact, including subnormals, infinities and NaN). */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
