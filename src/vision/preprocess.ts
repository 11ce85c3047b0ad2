import type { Box } from './geometry.js';
import type { RgbImage } from './image.js';

/**
 * Model inputs made in plain JS: crops of an RGB frame resized into a float32 NHWC buffer, by
 * the same arithmetic as TensorFlow's resize_bilinear (no corner alignment, no half-pixel
 * centres) and crop_and_resize (bilinear), so the models see what they saw under tfjs.
 */

/** value written = source value × scale + offset */
export interface Normalization {
  scale: number;
  offset: number;
}

/** Where an output pixel of a resized picture reads the source, per output row and column. */
interface SampleGrid {
  /** Fractional source row of each output row, NaN where it lies outside the image. */
  rows: Float64Array;
  cols: Float64Array;
}

/** TensorFlow's resize_bilinear of the whole image to outH×outW. */
function resizeGrid(img: RgbImage, outH: number, outW: number): SampleGrid {
  const rows = new Float64Array(outH), cols = new Float64Array(outW);
  const ry = img.height / outH, rx = img.width / outW;
  for (let y = 0; y < outH; y++) rows[y] = ry * y;
  for (let x = 0; x < outW; x++) cols[x] = rx * x;
  return { rows, cols };
}

/**
 * TensorFlow's crop_and_resize of `box` (pixels, may reach outside the image) to outH×outW: box
 * edges are normalised by the image size and mapped onto [0, size-1], as tf.image.cropAndResize
 * does when given box / size.
 */
function cropGrid(img: RgbImage, box: Box, outH: number, outW: number): SampleGrid {
  const axis = (start: number, length: number, size: number, out: number): Float64Array => {
    const a = start / size, b = (start + length) / size;
    const v = new Float64Array(out);
    const step = out > 1 ? ((b - a) * (size - 1)) / (out - 1) : 0;
    for (let i = 0; i < out; i++) {
      const s = out > 1 ? a * (size - 1) + i * step : 0.5 * (a + b) * (size - 1);
      v[i] = s < 0 || s > size - 1 ? NaN : s;
    }
    return v;
  };
  return { rows: axis(box.y, box.height, img.height, outH), cols: axis(box.x, box.width, img.width, outW) };
}

/**
 * Writes the bilinear samples of `grid` into `out` (NHWC, rows of `rowStride` floats starting at
 * `offset`). Samples outside the image read 0 (black) before normalisation.
 */
function sample(img: RgbImage, grid: SampleGrid, out: Float32Array, offset: number, rowStride: number, norm: Normalization): void {
  const { data, width, height } = img;
  const { scale, offset: bias } = norm;
  const nc = grid.cols.length;
  const left = new Int32Array(nc), right = new Int32Array(nc), xf = new Float64Array(nc);
  for (let x = 0; x < nc; x++) {
    const s = grid.cols[x];
    if (Number.isNaN(s)) {
      left[x] = -1;
      continue;
    }
    const l = Math.max(0, Math.floor(s));
    left[x] = l * 3;
    right[x] = Math.min(width - 1, Math.ceil(s)) * 3;
    xf[x] = s - l;
  }
  for (let y = 0; y < grid.rows.length; y++) {
    let o = offset + y * rowStride;
    const s = grid.rows[y];
    if (Number.isNaN(s)) {
      out.fill(bias, o, o + nc * 3);
      continue;
    }
    const t = Math.max(0, Math.floor(s));
    const top = t * width * 3, bottom = Math.min(height - 1, Math.ceil(s)) * width * 3;
    const yf = s - t;
    for (let x = 0; x < nc; x++, o += 3) {
      const l = left[x];
      if (l < 0) {
        out[o] = out[o + 1] = out[o + 2] = bias;
        continue;
      }
      const r = right[x], f = xf[x];
      for (let c = 0; c < 3; c++) {
        const tl = data[top + l + c], tr = data[top + r + c], bl = data[bottom + l + c], br = data[bottom + r + c];
        const upper = tl + (tr - tl) * f, lower = bl + (br - bl) * f;
        out[o + c] = (upper + (lower - upper) * yf) * scale + bias;
      }
    }
  }
}

/**
 * The image, or a region of it, scaled to fit size×size without stretching, at the top left of a
 * size×size input; the rest is 0 after normalisation. Returns the scale applied.
 */
export function letterboxInto(img: RgbImage, region: Box | undefined, size: number, out: Float32Array, norm: Normalization): { scale: number } {
  const w = Math.round(region?.width ?? img.width), h = Math.round(region?.height ?? img.height);
  const scale = size / Math.max(w, h);
  const rw = Math.round(w * scale), rh = Math.round(h * scale);
  out.fill(0, 0, size * size * 3);
  const grid = region ? cropGrid(img, region, rh, rw) : resizeGrid(img, rh, rw);
  sample(img, grid, out, 0, size * 3, norm);
  return { scale };
}

/** Square crops (pixels, may reach outside the image) each resized to size×size, one after another. */
export function cropsInto(img: RgbImage, boxes: readonly Box[], size: number, out: Float32Array, norm: Normalization): void {
  boxes.forEach((box, i) => sample(img, cropGrid(img, box, size, size), out, i * size * size * 3, size * 3, norm));
}
