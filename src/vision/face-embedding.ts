import { canonicalKeypoints, fitSimilarity, invertSimilarity, warpInto, type FaceKeypoints, type Point2 } from './face-align.js';
import type { Box } from './geometry.js';
import type { RgbImage } from './image.js';
import type { ModelRunner } from './model-runner.js';
import { FACE_API_RESNET_INPUT } from './onnx/face-api-resnet.js';
import { cropsInto } from './preprocess.js';

const INPUT = FACE_API_RESNET_INPUT;

/**
 * Where the five keypoints sit in dlib's 150×150 face chip (padding 0.25), the framing this net
 * was trained on: dlib's mean face shape (get_face_chip_details), eye centres as the mean of
 * each eye's six contour points, nose tip (point 30), mouth corners (48, 54), mapped by
 * (t + 0.25) / 1.5 × 150.
 */
export function alignmentTemplate(size: number = INPUT, padding = 0.25): FaceKeypoints {
  const mean: FaceKeypoints = [[0.225492, 0.21599], [0.754761, 0.21599], [0.490127, 0.515625], [0.254149, 0.780233], [0.726104, 0.780233]];
  const k = size / (1 + 2 * padding);
  return mean.map(([x, y]) => [(x + padding) * k, (y + padding) * k] as Point2) as unknown as FaceKeypoints;
}

const TEMPLATE = alignmentTemplate();

/**
 * Face appearance vectors from @vladmandic/face-api's recognition net (dlib's ResNet face
 * descriptor, 150×150 → 128 values), unit length: the cosine similarity of two of them says how
 * alike two faces are. The net expects faces aligned to dlib's chip: give it the five keypoints
 * (`embedAligned`) whenever they are known.
 */
export class FaceEmbedder {
  private readonly mirrored: boolean;

  /**
   * `mirrored` (default true): each aligned face is also run mirrored and the two vectors
   * averaged. It costs twice the model time and separates people better (scripts/identity-check.ts).
   */
  constructor(private readonly model: ModelRunner, opts: { mirrored?: boolean } = {}) {
    this.mirrored = opts.mirrored ?? true;
  }

  /** One vector per face, each warped upright onto the net's template by a similarity fit of its five keypoints. */
  async embedAligned(image: RgbImage, keypoints: readonly FaceKeypoints[]): Promise<Float32Array[]> {
    if (keypoints.length === 0) return [];
    const copies = this.mirrored ? 2 : 1;
    const chip = INPUT * INPUT * 3;
    const input = new Float32Array(copies * keypoints.length * chip);
    keypoints.forEach((k, i) => {
      const toChip = fitSimilarity(canonicalKeypoints(k), TEMPLATE);
      warpInto(image, invertSimilarity(toChip), INPUT, input, i * chip, { scale: 1, offset: 0 });
      if (copies === 2) mirrorInto(input.subarray(i * chip, (i + 1) * chip), input.subarray((keypoints.length + i) * chip, (keypoints.length + i + 1) * chip));
    });
    const vectors = await this.run(input, copies * keypoints.length);
    return copies === 1 ? vectors : keypoints.map((_, i) => meanEmbedding([vectors[i], vectors[keypoints.length + i]]));
  }

  /**
   * One vector per square crop (pixels of `image`), resized as it is, never mirrored: without
   * keypoints the face is only roughly where the net expects it, so these vectors separate people
   * less well; do not compare them with `embedAligned` vectors.
   */
  async embed(image: RgbImage, crops: readonly Box[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const input = new Float32Array(crops.length * INPUT * INPUT * 3);
    cropsInto(image, crops, INPUT, input, { scale: 1, offset: 0 });
    return this.run(input, crops.length);
  }

  private async run(input: Float32Array, count: number): Promise<Float32Array[]> {
    const [out] = await this.model.run(input, [count, INPUT, INPUT, 3]);
    const n = out.data.length / count;
    return Array.from({ length: count }, (_, i) => normalize(Float32Array.from(out.data.subarray(i * n, (i + 1) * n))));
  }
}

/** A size×size NHWC chip flipped left to right. */
function mirrorInto(from: Float32Array, to: Float32Array): void {
  for (let y = 0; y < INPUT; y++) {
    for (let x = 0; x < INPUT; x++) {
      const o = (y * INPUT + x) * 3, m = (y * INPUT + INPUT - 1 - x) * 3;
      to[m] = from[o];
      to[m + 1] = from[o + 1];
      to[m + 2] = from[o + 2];
    }
  }
}

/** Scales v to unit length in place (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= k;
  return v;
}

/** The unit mean of several unit vectors of one face: steadier than any one of them. */
export function meanEmbedding(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new Error('meanEmbedding: no vectors');
  const sum = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i] += v[i];
  return normalize(sum);
}
