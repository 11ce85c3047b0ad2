import { iou, type Box } from './geometry.js';
import type { RgbImage } from './image.js';
import type { ModelRunner } from './model-runner.js';
import { letterboxInto } from './preprocess.js';

/** A face found by the detector, in pixels of the analysed image. */
export interface DetectedFace {
  box: Box;
  score: number;
}

export interface DetectorOptions {
  minScore: number;
  iouThreshold: number;
  maxFaces: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { minScore: 0.5, iouThreshold: 0.3, maxFaces: 20 };

const INPUT = 256;

/** BlazeFace anchor centres (pixels of the 256×256 input): 16×16 grid ×2 then 8×8 grid ×6. */
function anchors(): Float32Array {
  const out: number[] = [];
  for (const [stride, perCell] of [[16, 2], [32, 6]] as const) {
    const cells = INPUT / stride;
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let k = 0; k < perCell; k++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

/** BlazeFace (MediaPipe short-range back-camera model, 256×256) as shipped by @vladmandic/human. */
export class FaceDetector {
  private readonly anchorXY = anchors();
  private readonly input = new Float32Array(INPUT * INPUT * 3);

  constructor(private readonly model: ModelRunner, private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS) {}

  /**
   * Finds faces in an image (or in one region of it: a tile, so that small faces are seen
   * larger). The image or region is letterboxed, not stretched.
   */
  async detect(image: RgbImage, region?: Box): Promise<DetectedFace[]> {
    const r = region ?? { x: 0, y: 0, width: image.width, height: image.height };
    const { scale } = letterboxInto(image, region, INPUT, this.input, { scale: 1 / 127.5, offset: -1 });
    const outs = await this.model.run(this.input, [1, INPUT, INPUT, 3]);
    // four heads: scores and regressors for the 512 fine anchors and the 384 coarse ones
    const head = (anchors: number, width: number) => outs.find((o) => o.dims[1] === anchors && o.dims[2] === width)!.data;
    const heads = [
      { scores: head(512, 1), boxes: head(512, 16), first: 0, count: 512 },
      { scores: head(384, 1), boxes: head(384, 16), first: 512, count: 384 },
    ];
    const candidates: DetectedFace[] = [];
    for (const h of heads) {
      for (let k = 0; k < h.count; k++) {
        const score = 1 / (1 + Math.exp(-h.scores[k]));
        if (score < this.options.minScore) continue;
        const i = h.first + k, row = k * 16;
        const cx = this.anchorXY[2 * i] + h.boxes[row];
        const cy = this.anchorXY[2 * i + 1] + h.boxes[row + 1];
        const bw = h.boxes[row + 2], bh = h.boxes[row + 3];
        candidates.push({
          box: { x: r.x + (cx - bw / 2) / scale, y: r.y + (cy - bh / 2) / scale, width: bw / scale, height: bh / scale },
          score,
        });
      }
    }
    return nonMaxSuppression(candidates, this.options.iouThreshold, this.options.maxFaces);
  }
}

function nonMaxSuppression(faces: DetectedFace[], threshold: number, max: number): DetectedFace[] {
  const kept: DetectedFace[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) {
    if (kept.length >= max) break;
    if (kept.every((k) => iou(k.box, f.box) <= threshold)) kept.push(f);
  }
  return kept;
}
