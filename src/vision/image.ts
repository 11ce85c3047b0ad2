
/** An RGB24 image in memory (a decoded frame at analysis size). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Planar YUV 4:2:0 (as ffmpeg's yuv420p, BT.601 limited range) to packed RGB. Integer maths
 * with 8-bit fixed-point coefficients.
 */
export function yuv420pToRgb(yuv: Uint8Array, width: number, height: number, out: Uint8Array = new Uint8Array(width * height * 3)): RgbImage {
  const uOff = width * height, vOff = uOff + (width * height) / 4, cw = width / 2;
  for (let y = 0; y < height; y++) {
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
