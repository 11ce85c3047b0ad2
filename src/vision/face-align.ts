import type { RgbImage } from './image.js';
import type { Normalization } from './preprocess.js';

/** A point in pixels of some image. */
export type Point2 = readonly [number, number];

/**
 * The five alignment keypoints of one face, in image pixels: the two eye centres, the nose tip,
 * the two mouth corners. Each pair may come in either order (the viewer's left first, or the
 * subject's): `canonicalKeypoints` sorts them out.
 */
export type FaceKeypoints = readonly [Point2, Point2, Point2, Point2, Point2];

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation, uniform scale and shift. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function applySimilarity(t: Similarity, [x, y]: Point2): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d, b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** The similarity that maps `from` onto `to` best in least squares (no reflection). */
export function fitSimilarity(from: readonly Point2[], to: readonly Point2[]): Similarity {
  const n = from.length;
  let fx = 0, fy = 0, gx = 0, gy = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i][0] / n; fy += from[i][1] / n;
    gx += to[i][0] / n; gy += to[i][1] / n;
  }
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i][0] - fx, py = from[i][1] - fy, qx = to[i][0] - gx, qy = to[i][1] - gy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('fitSimilarity: the source points all coincide');
  const a = dot / norm, b = cross / norm;
  return { a, b, tx: gx - (a * fx - b * fy), ty: gy - (b * fx + a * fy) };
}

/**
 * The keypoints in the template's order: the viewer's left eye, right eye, nose tip, left mouth
 * corner, right mouth corner. A face seen in a (non-mirrored) image has its mouth on the
 * clockwise side of the left-eye→right-eye axis (y pointing down), whatever its roll; pairs
 * given the other way round are swapped.
 */
export function canonicalKeypoints(k: FaceKeypoints): FaceKeypoints {
  const [e1, e2, nose, m1, m2] = k;
  const ex = e2[0] - e1[0], ey = e2[1] - e1[1];
  const dx = (m1[0] + m2[0] - e1[0] - e2[0]) / 2, dy = (m1[1] + m2[1] - e1[1] - e2[1]) / 2;
  const eyesFlipped = ex * dy - ey * dx < 0;
  const [l1, r1] = eyesFlipped ? [e2, e1] : [e1, e2];
  // the mouth corners are ordered along the (now left→right) eye axis
  const mouthFlipped = (m2[0] - m1[0]) * (r1[0] - l1[0]) + (m2[1] - m1[1]) * (r1[1] - l1[1]) < 0;
  const [l2, r2] = mouthFlipped ? [m2, m1] : [m1, m2];
  return [l1, r1, nose, l2, r2];
}

/**
 * Samples `img` through `toSource` (output pixel → source pixel) into a size×size NHWC patch at
 * `offset` of `out`; outside the image reads black (0 before normalisation). Each output pixel
 * averages k×k bilinear samples spread over its footprint, k ≈ the source pixels per output
 * pixel (up to 4), so that a large face shrunk into the patch does not alias.
 */
export function warpInto(img: RgbImage, toSource: Similarity, size: number, out: Float32Array, offset: number, norm: Normalization): void {
  const { data, width, height } = img;
  const { scale, offset: bias } = norm;
  const { a, b, tx, ty } = toSource;
  const k = Math.max(1, Math.min(4, Math.round(Math.hypot(a, b))));
  const acc = [0, 0, 0];
  const addSample = (sx: number, sy: number): void => {
    // continuous source coordinates: pixel centres sit at integer + 0.5
    const x = sx - 0.5, y = sy - 0.5;
    if (x < -0.5 || y < -0.5 || x > width - 0.5 || y > height - 0.5) return;
    const x0 = Math.max(0, Math.min(width - 1, Math.floor(x))), y0 = Math.max(0, Math.min(height - 1, Math.floor(y)));
    const x1 = Math.min(width - 1, x0 + 1), y1 = Math.min(height - 1, y0 + 1);
    const fx = Math.max(0, Math.min(1, x - x0)), fy = Math.max(0, Math.min(1, y - y0));
    const p00 = (y0 * width + x0) * 3, p01 = (y0 * width + x1) * 3, p10 = (y1 * width + x0) * 3, p11 = (y1 * width + x1) * 3;
    for (let c = 0; c < 3; c++) {
      const top = data[p00 + c] + (data[p01 + c] - data[p00 + c]) * fx;
      const bottom = data[p10 + c] + (data[p11 + c] - data[p10 + c]) * fx;
      acc[c] += top + (bottom - top) * fy;
    }
  };
  const perPixel = 1 / (k * k);
  let o = offset;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++, o += 3) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let sj = 0; sj < k; sj++) {
        for (let si = 0; si < k; si++) {
          const u = i + (si + 0.5) / k, v = j + (sj + 0.5) / k;
          addSample(a * u - b * v + tx, b * u + a * v + ty);
        }
      }
      for (let c = 0; c < 3; c++) out[o + c] = acc[c] * perPixel * scale + bias;
    }
  }
}
