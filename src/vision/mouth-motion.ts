import type { Point3 } from './geometry.js';

/** One plane of 8-bit luma (a decoded frame's Y plane at analysis size). */
export interface LumaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

// MediaPipe FaceMesh landmark indices
const MOUTH_CORNERS = [61, 291] as const;
const EYE_CORNERS = [
  [33, 133],
  [362, 263],
] as const;

/**
 * The region compared, in eye distances from the midpoint of the mouth corners, along the eye
 * line (u) and down the face (v): the lips, where the jaw takes the lower lip, and a little of
 * the skin around them.
 */
const HALF_WIDTH = 0.55;
const TOP = -0.3;
const BOTTOM = 0.6;
const COLUMNS = 16;
const ROWS = 12;
/** The earlier frame is searched this many grid steps each way (at half steps, then a quarter step around the best), so a head that moved a little is not counted as mouth movement. */
const SHIFTS = [-1, -0.5, 0, 0.5, 1];
/** Added to the region's contrast (luma levels), so a flat dark region does not blow noise up. */
const CONTRAST_FLOOR = 2;

/**
 * How much a face's mouth moved between an earlier frame and this one, from the pixels: the mean
 * absolute luma difference over a 16×12 grid on the mouth region (placed and sized by this
 * frame's mesh: the mouth corners and the eyes), read at the same place in both frames, the
 * earlier one shifted by up to one grid step to take out head movement; over the region's
 * contrast (its mean absolute deviation), so it does not depend on lighting or face size.
 *
 * 0 on a still picture, whatever the mesh does: both frames are read where this frame's mesh
 * put the mouth, so landmark jitter moves the region, not the measure. Speech gives 0.2–0.7
 * between frames 66 ms apart; a still mouth on a moving head stays lower. About 6 500 bilinear
 * reads, no model. NaN when the mesh gives no size.
 */
export function mouthMotion(now: LumaImage, before: LumaImage, points: readonly Point3[]): number {
  const [left, right] = MOUTH_CORNERS.map((i) => points[i]);
  const [eyeA, eyeB] = EYE_CORNERS.map(([a, b]) => [(points[a][0] + points[b][0]) / 2, (points[a][1] + points[b][1]) / 2]);
  const eyes = Math.hypot(eyeB[0] - eyeA[0], eyeB[1] - eyeA[1]);
  if (!(eyes > 0)) return NaN;
  const frame: MouthFrame = {
    cx: (left[0] + right[0]) / 2,
    cy: (left[1] + right[1]) / 2,
    ux: (eyeB[0] - eyeA[0]) / eyes,
    uy: (eyeB[1] - eyeA[1]) / eyes,
    halfSpan: HALF_WIDTH * eyes,
    top: TOP * eyes,
    bottom: BOTTOM * eyes,
  };
  const current = sampleLuma(now, frame, 0, 0);
  const contrast = meanAbsoluteDeviation(current) + CONTRAST_FLOOR;
  const stepU = (2 * frame.halfSpan) / COLUMNS, stepV = (frame.bottom - frame.top) / ROWS;
  const differenceAt = (du: number, dv: number) => meanAbsoluteDifference(current, sampleLuma(before, frame, du * stepU, dv * stepV));
  let least = Infinity, at = [0, 0];
  for (const du of SHIFTS) for (const dv of SHIFTS) {
    const d = differenceAt(du, dv);
    if (d < least) [least, at] = [d, [du, dv]];
  }
  // then a quarter step around the best
  for (const du of [-0.25, 0, 0.25]) for (const dv of [-0.25, 0, 0.25]) if (du || dv) least = Math.min(least, differenceAt(at[0] + du, at[1] + dv));
  return least / contrast;
}

interface MouthFrame {
  cx: number;
  cy: number;
  /** Unit vector along the eye line. */
  ux: number;
  uy: number;
  halfSpan: number;
  top: number;
  bottom: number;
}

/** Luma on the COLUMNS×ROWS grid of the mouth frame, moved by (du, dv) pixels along its axes; bilinear, clamped to the image. */
function sampleLuma(img: LumaImage, f: MouthFrame, du: number, dv: number): Float32Array {
  const out = new Float32Array(COLUMNS * ROWS);
  const { width, height, data } = img;
  for (let j = 0; j < ROWS; j++) {
    const v = f.top + ((j + 0.5) / ROWS) * (f.bottom - f.top) + dv;
    for (let i = 0; i < COLUMNS; i++) {
      const u = (((i + 0.5) / COLUMNS) * 2 - 1) * f.halfSpan + du;
      const x = Math.min(width - 1.001, Math.max(0, f.cx + u * f.ux - v * f.uy));
      const y = Math.min(height - 1.001, Math.max(0, f.cy + u * f.uy + v * f.ux));
      const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
      const o = y0 * width + x0;
      const top = data[o] * (1 - fx) + data[o + 1] * fx;
      const bottom = data[o + width] * (1 - fx) + data[o + width + 1] * fx;
      out[j * COLUMNS + i] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

function meanAbsoluteDeviation(a: Float32Array): number {
  let mean = 0;
  for (const v of a) mean += v;
  mean /= a.length;
  let s = 0;
  for (const v of a) s += Math.abs(v - mean);
  return s / a.length;
}

function meanAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
