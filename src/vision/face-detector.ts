import type { GraphModel } from '@tensorflow/tfjs-converter';
import { loadHumanModel, tf } from './tf-runtime.js';
import { iou, type Box } from './geometry.js';

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

  private constructor(private readonly model: GraphModel, private readonly options: DetectorOptions) {}

  static async load(options: Partial<DetectorOptions> = {}): Promise<FaceDetector> {
    return new FaceDetector(await loadHumanModel('blazeface'), { ...DEFAULT_DETECTOR_OPTIONS, ...options });
  }

  /**
   * Finds faces in an image tensor [1,h,w,3] (0..255), or in one region of it (a tile, so that
   * small faces are seen larger). The image or region is letterboxed, not stretched.
   */
  async detect(image: tf.Tensor4D, region?: Box): Promise<DetectedFace[]> {
    const [, ih, iw] = image.shape;
    const r = region ?? { x: 0, y: 0, width: iw, height: ih };
    const w = Math.round(r.width), h = Math.round(r.height);
    const scale = INPUT / Math.max(w, h);
    const rw = Math.round(w * scale), rh = Math.round(h * scale);
    const raw = tf.tidy(() => {
      const resized = region
        ? tf.image.cropAndResize(image, [[r.y / ih, r.x / iw, (r.y + r.height) / ih, (r.x + r.width) / iw]], [0], [rh, rw])
        : tf.image.resizeBilinear(image, [rh, rw]);
      const normalized = tf.sub(tf.div(resized, 127.5), 1);
      const padded = tf.pad(normalized, [[0, 0], [0, INPUT - rh], [0, INPUT - rw], [0, 0]]);
      const outs = this.model.execute(padded) as tf.Tensor[];
      // four heads: scores and regressors for the 512 fine anchors and the 384 coarse ones
      const bySize = [...outs].sort((a, b) => a.size - b.size);
      const fine = tf.concat([bySize.find((t) => t.shape[1] === 512 && t.shape[2] === 1)!, bySize.find((t) => t.shape[1] === 512 && t.shape[2] === 16)!], 2);
      const coarse = tf.concat([bySize.find((t) => t.shape[1] === 384 && t.shape[2] === 1)!, bySize.find((t) => t.shape[1] === 384 && t.shape[2] === 16)!], 2);
      return tf.squeeze(tf.concat([fine, coarse], 1), [0]) as tf.Tensor2D;
    });
    const data = await raw.data();
    raw.dispose();
    const candidates: DetectedFace[] = [];
    for (let i = 0; i < 896; i++) {
      const row = i * 17;
      const score = 1 / (1 + Math.exp(-data[row]));
      if (score < this.options.minScore) continue;
      const cx = this.anchorXY[2 * i] + data[row + 1];
      const cy = this.anchorXY[2 * i + 1] + data[row + 2];
      const bw = data[row + 3], bh = data[row + 4];
      candidates.push({
        box: { x: r.x + (cx - bw / 2) / scale, y: r.y + (cy - bh / 2) / scale, width: bw / scale, height: bh / scale },
        score,
      });
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
