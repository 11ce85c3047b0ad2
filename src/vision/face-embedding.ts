import type { Box } from './geometry.js';
import type { RgbImage } from './image.js';
import type { ModelRunner } from './model-runner.js';
import { cropsInto } from './preprocess.js';

const INPUT = 224;

/** HSE FaceRes descriptor network (224×224 → 1024 values), as shipped by @vladmandic/human. */
export class FaceEmbedder {
  /** The output to ask the model for. */
  static readonly OUTPUT = 'global_pooling/Mean';

  constructor(private readonly model: ModelRunner) {}

  /** One unit-length appearance vector per square crop (pixels of `image`). */
  async embed(image: RgbImage, crops: readonly Box[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const input = new Float32Array(crops.length * INPUT * INPUT * 3);
    cropsInto(image, crops, INPUT, input, { scale: 1, offset: 0 });
    const [out] = await this.model.run(input, [crops.length, INPUT, INPUT, 3]);
    const n = out.data.length / crops.length;
    return crops.map((_, i) => normalize(Float32Array.from(out.data.subarray(i * n, (i + 1) * n))));
  }
}

function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= k;
  return v;
}

/** Cosine similarity of two unit vectors. */
export function similarity(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
