import type { GraphModel } from '@tensorflow/tfjs-converter';
import { loadHumanModel, tf } from './tf-runtime.js';
import { cropSquares } from './image.js';
import type { Box } from './geometry.js';

const INPUT = 224;
const DESCRIPTOR = 'global_pooling/Mean';

/** HSE FaceRes descriptor network (224×224 → 1024 values), as shipped by @vladmandic/human. */
export class FaceEmbedder {
  private constructor(private readonly model: GraphModel) {}

  static async load(): Promise<FaceEmbedder> {
    return new FaceEmbedder(await loadHumanModel('faceres'));
  }

  /** One unit-length appearance vector per square crop (pixels of `image`). */
  async embed(image: tf.Tensor4D, crops: readonly Box[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const out = tf.tidy(() => {
      const input = cropSquares(image, crops, INPUT);
      return this.model.execute(input, DESCRIPTOR) as tf.Tensor2D;
    });
    const data = await out.data();
    out.dispose();
    const n = data.length / crops.length;
    return crops.map((_, i) => normalize(Float32Array.from(data.subarray(i * n, (i + 1) * n))));
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
