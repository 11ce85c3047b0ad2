import type { Box } from './geometry.js';
import type { RgbImage } from './image.js';
import type { ModelRunner } from './model-runner.js';
import { cropsInto } from './preprocess.js';
import { canonicalKeypoints, fitSimilarity, invertSimilarity, warpInto, type FaceKeypoints } from './face-align.js';
import { alignmentTemplate, normalize } from './face-embedding.js';

const INPUT = 224;

/**
 * HSE FaceRes descriptor network (224×224 → 1024 values), as shipped by @vladmandic/human: the
 * engine's appearance model before face-api's ResNet (face-embedding.ts) replaced it; kept for
 * scripts/identity-check.ts, which compares the two.
 */
export class FaceResEmbedder {
  /** The output to ask the model for. */
  static readonly OUTPUT = 'global_pooling/Mean';

  constructor(private readonly model: ModelRunner) {}

  /** One unit-length appearance vector per square crop (pixels of `image`). */
  async embed(image: RgbImage, crops: readonly Box[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const input = new Float32Array(crops.length * INPUT * INPUT * 3);
    cropsInto(image, crops, INPUT, input, { scale: 1, offset: 0 });
    return this.run(input, crops.length);
  }

  /** As FaceEmbedder.embedAligned, onto dlib's chip template widened by `padding` (dlib's own is 0.25). */
  async embedAligned(image: RgbImage, keypoints: readonly FaceKeypoints[], padding: number): Promise<Float32Array[]> {
    if (keypoints.length === 0) return [];
    const template = alignmentTemplate(INPUT, padding);
    const input = new Float32Array(keypoints.length * INPUT * INPUT * 3);
    keypoints.forEach((k, i) => {
      const toChip = fitSimilarity(canonicalKeypoints(k), template);
      warpInto(image, invertSimilarity(toChip), INPUT, input, i * INPUT * INPUT * 3, { scale: 1, offset: 0 });
    });
    return this.run(input, keypoints.length);
  }

  private async run(input: Float32Array, count: number): Promise<Float32Array[]> {
    const [out] = await this.model.run(input, [count, INPUT, INPUT, 3]);
    const n = out.data.length / count;
    return Array.from({ length: count }, (_, i) => normalize(Float32Array.from(out.data.subarray(i * n, (i + 1) * n))));
  }
}
