import type { Point3 } from './geometry.js';
import type { RgbImage } from './image.js';

/** Whether something covers a face's mouth, judged from the picture where the mesh put the lips. */
export interface MouthCover {
  hidden: boolean;
  /**
   * The longest featureless band across the lip region, as a share of its height (0..1): 0 when
   * every row of it shows some structure, 1 when all of it is flat.
   */
  score: number;
}

// MediaPipe FaceMesh landmark indices
const MOUTH_CORNERS = [61, 291] as const;
const UPPER_LIP_TOP = [0, 37, 267];
const LOWER_LIP_BOTTOM = [17, 84, 314];
const EYE_OUTER_CORNERS = [33, 263] as const;

/**
 * The region judged runs across the mouth (0.9 of its half-width each side of the centre) from
 * just above the upper lip to this far below the lower lip, in mouth half-widths: where the lower
 * lip and jaw go when the mouth opens, which a lip-sync model redraws. So a cover over the chin
 * just under the lips counts too. (0.4 and 0.6 were tried: uncovered faces score the same, but a
 * cover under the lower lip is seen less.)
 */
const BELOW_LIPS = 0.8;
const ABOVE_LIPS = 0.15;
const COLUMNS = 16;
const ROWS = 24;
/**
 * A row is featureless when its mean luma gradient (per image pixel) is below this share of the
 * same face's eye-region gradient (which scales it to the face's contrast, blur and size). Lips,
 * the mouth line, teeth, stubble and skin shading stay above it: on the uncovered faces measured
 * (public p01–p12, real r07/r10/r13/r14/r17, the demo photos) the longest run of such rows is at
 * most 0.04 of the region; a flat cover's rows are near 0.
 */
const FLAT_ROW = 0.06;
/**
 * Hidden when a featureless band covers at least this share of the region's height: a cover over
 * the whole mouth gives 0.6–1, one over the lower lip about 0.5, one from just under the lower lip
 * down about 0.3 (p12 as its head rises out of the patch); uncovered faces at most 0.04.
 */
const HIDDEN_SHARE = 0.2;

/**
 * Judges whether the mouth of a face is covered, from the analysed frame and the face's 468 mesh
 * points (pixels of `img`). The mesh still places lips on a covered mouth, so the picture is read
 * there: lips show structure in every row of the mouth-aligned region (lip edges, the mouth line,
 * teeth), an even cover leaves a band without any.
 *
 * What it sees is a cover with little texture at analysis size (a card, a flat patch, a smooth
 * object). A cover with texture or shading of its own (a real palm or fingers, a foam microphone)
 * shows structure too and is not seen: no cheap cue measured here (colour of lips against skin,
 * edges along the lip contour, the mouth line's darkness) separated those from uncovered mouths.
 * About 800 bilinear samples, no model.
 */
export function mouthCover(img: RgbImage, points: readonly Point3[]): MouthCover {
  const [left, right] = MOUTH_CORNERS.map((i) => points[i]);
  const halfWidth = Math.hypot(right[0] - left[0], right[1] - left[1]) / 2;
  if (!(halfWidth > 0)) return { hidden: false, score: 0 };
  // mouth frame: u along the corners, v perpendicular, pointing down the face
  const ux = (right[0] - left[0]) / (2 * halfWidth), uy = (right[1] - left[1]) / (2 * halfWidth);
  const cx = (left[0] + right[0]) / 2, cy = (left[1] + right[1]) / 2;
  const vOf = (i: number) => -(points[i][0] - cx) * uy + (points[i][1] - cy) * ux;
  const top = Math.min(...UPPER_LIP_TOP.map(vOf)) - ABOVE_LIPS * halfWidth;
  const bottom = Math.max(...LOWER_LIP_BOTTOM.map(vOf)) + BELOW_LIPS * halfWidth;
  const halfSpan = 0.9 * halfWidth;
  const mouth = sampleLuma(img, cx, cy, ux, uy, halfSpan, top, bottom);
  const mouthRows = rowGradients(mouth, (2 * halfSpan) / COLUMNS, (bottom - top) / ROWS);

  // the face's own contrast and sharpness: the gradient across both eyes
  const [eyeR, eyeL] = EYE_OUTER_CORNERS.map((i) => points[i]);
  const eyeHalf = Math.hypot(eyeL[0] - eyeR[0], eyeL[1] - eyeR[1]) / 2;
  const ex = (eyeR[0] + eyeL[0]) / 2, ey = (eyeR[1] + eyeL[1]) / 2;
  const eyeSpanU = 1.2 * eyeHalf, eyeSpanV = 0.5 * eyeHalf;
  const eyes = sampleLuma(img, ex, ey, ux, uy, eyeSpanU, -eyeSpanV, eyeSpanV);
  const eyeRows = rowGradients(eyes, (2 * eyeSpanU) / COLUMNS, (2 * eyeSpanV) / ROWS);
  // + 0.5: a near-black face has no measurable reference
  const reference = eyeRows.reduce((s, g) => s + g, 0) / ROWS + 0.5;

  let run = 0, longest = 0;
  for (const g of mouthRows) {
    run = g < FLAT_ROW * reference ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  const score = longest / ROWS;
  return { hidden: score >= HIDDEN_SHARE, score };
}

/**
 * Luma on a COLUMNS×ROWS grid in a rotated frame: u from -halfSpan to halfSpan along (ux, uy),
 * v from vTop to vBottom along the perpendicular (pointing down the face), bilinear.
 */
function sampleLuma(img: RgbImage, cx: number, cy: number, ux: number, uy: number, halfSpan: number, vTop: number, vBottom: number): Float32Array {
  const out = new Float32Array(COLUMNS * ROWS);
  const { width, height, data } = img;
  for (let j = 0; j < ROWS; j++) {
    const v = vTop + ((j + 0.5) / ROWS) * (vBottom - vTop);
    for (let i = 0; i < COLUMNS; i++) {
      const u = (((i + 0.5) / COLUMNS) * 2 - 1) * halfSpan;
      const x = Math.min(width - 1.001, Math.max(0, cx + u * ux - v * uy));
      const y = Math.min(height - 1.001, Math.max(0, cy + u * uy + v * ux));
      const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
      const o = (y0 * width + x0) * 3, below = o + width * 3;
      let luma = 0;
      for (let c = 0; c < 3; c++) {
        const top = data[o + c] * (1 - fx) + data[o + 3 + c] * fx;
        const bot = data[below + c] * (1 - fx) + data[below + 3 + c] * fx;
        luma += LUMA[c] * (top * (1 - fy) + bot * fy);
      }
      out[j * COLUMNS + i] = luma;
    }
  }
  return out;
}

const LUMA = [0.299, 0.587, 0.114];

/** Mean |∂L/∂u| + |∂L/∂v| of each grid row, per image pixel (grid steps stepU, stepV pixels). */
function rowGradients(grid: Float32Array, stepU: number, stepV: number): Float32Array {
  const rows = new Float32Array(ROWS);
  for (let j = 0; j < ROWS; j++) {
    const up = j > 0 ? j - 1 : j, down = j < ROWS - 1 ? j + 1 : j;
    let sum = 0;
    for (let i = 0; i < COLUMNS; i++) {
      const k = j * COLUMNS + i;
      const gu = i > 0 && i < COLUMNS - 1 ? (grid[k + 1] - grid[k - 1]) / (2 * stepU) : 0;
      const gv = (grid[down * COLUMNS + i] - grid[up * COLUMNS + i]) / ((down - up) * stepV);
      sum += Math.abs(gu) + Math.abs(gv);
    }
    rows[j] = sum / COLUMNS;
  }
  return rows;
}
