import type { Box } from './geometry.js';

/** An RGB24 image in memory (a decoded frame at analysis size). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Planar YUV 4:2:0 (as ffmpeg's yuv420p, BT.601 limited range) to packed RGB. Integer maths
 * with 8-bit fixed-point coefficients. Only rows [fromRow, toRow) are written when given.
 */
export function yuv420pToRgb(yuv: Uint8Array, width: number, height: number, out: Uint8Array = new Uint8Array(width * height * 3), fromRow = 0, toRow = height): RgbImage {
  const uOff = width * height, vOff = uOff + (width * height) / 4, cw = width / 2;
  for (let y = fromRow; y < toRow; y++) {
    const row = y * width, crow = (y >> 1) * cw;
    for (let x = 0; x < width; x++) {
      const c = 298 * (yuv[row + x] - 16);
      const d = yuv[uOff + crow + (x >> 1)] - 128;
      const e = yuv[vOff + crow + (x >> 1)] - 128;
      const o = (row + x) * 3;
      out[o] = clamp8((c + 409 * e + 128) >> 8);
      out[o + 1] = clamp8((c - 100 * d - 208 * e + 128) >> 8);
      out[o + 2] = clamp8((c + 516 * d + 128) >> 8);
    }
  }
  return { width, height, data: out };
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * A yuv420p frame as RGB, converted only where it is read: whoever reads a part of `data` first
 * calls `ready` for it. Between detector passes the models read only around the faces followed,
 * a fraction of the frame.
 */
export class LazyRgbImage implements RgbImage {
  readonly data: Uint8Array;
  private readonly converted: Uint8Array;

  constructor(
    private readonly yuv: Uint8Array,
    readonly width: number,
    readonly height: number,
    reuse?: Uint8Array,
  ) {
    this.data = reuse && reuse.length === width * height * 3 ? reuse : new Uint8Array(width * height * 3);
    this.converted = new Uint8Array(height);
  }

  /** Converts the rows `box` (pixels; may reach outside the image) covers, whole rows; all of them without a box. */
  ready(box?: Box): this {
    // a frame whose buffer went back to the decoder (frame-ring.ts) would silently read as black
    if (this.yuv.byteLength === 0) throw new Error('frame buffer was released');
    const from = box ? Math.max(0, Math.floor(box.y) - 1) : 0;
    const to = box ? Math.min(this.height, Math.ceil(box.y + box.height) + 2) : this.height;
    let y = from;
    while (y < to) {
      if (this.converted[y]) {
        y++;
        continue;
      }
      let end = y;
      while (end < to && !this.converted[end]) end++;
      yuv420pToRgb(this.yuv, this.width, this.height, this.data, y, end);
      this.converted.fill(1, y, end);
      y = end;
    }
    return this;
  }
}
