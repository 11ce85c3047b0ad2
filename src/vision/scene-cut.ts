/** An 8-bit luma plane (the Y of a YUV frame). */
export interface LumaPlane {
  width: number;
  height: number;
  data: Uint8Array;
}

export const THUMB_COLS = 32;
export const THUMB_ROWS = 18;

/** A 32×18 grid of mean luma values: enough to see a shot change, blind to grain and noise. */
export function thumbnail(img: LumaPlane): Float32Array {
  const out = new Float32Array(THUMB_COLS * THUMB_ROWS);
  const samples = 4;
  for (let r = 0; r < THUMB_ROWS; r++) {
    for (let c = 0; c < THUMB_COLS; c++) {
      let sum = 0;
      for (let sy = 0; sy < samples; sy++) {
        const y = Math.floor(((r + (sy + 0.5) / samples) * img.height) / THUMB_ROWS);
        for (let sx = 0; sx < samples; sx++) {
          const x = Math.floor(((c + (sx + 0.5) / samples) * img.width) / THUMB_COLS);
          sum += img.data[y * img.width + x];
        }
      }
      out[r * THUMB_COLS + c] = sum / (samples * samples);
    }
  }
  return out;
}

export function thumbnailDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/**
 * Flags hard cuts: a frame whose thumbnail differs from the previous one far more than
 * frames usually differ here (so steady motion or animated backgrounds do not count).
 */
export class CutDetector {
  private prev?: Float32Array;
  private readonly recent: number[] = [];

  constructor(private readonly minDistance = 12, private readonly factor = 3) {}

  /** The last frame's thumbnail. */
  get last(): Float32Array | undefined {
    return this.prev;
  }

  /** Feeds the next frame; true when a cut lies between it and the previous frame. */
  push(img: LumaPlane): boolean {
    const thumb = thumbnail(img);
    const prev = this.prev;
    this.prev = thumb;
    if (!prev) return false;
    const d = thumbnailDistance(prev, thumb);
    const typical = median(this.recent);
    this.recent.push(d);
    if (this.recent.length > 15) this.recent.shift();
    return d >= this.minDistance && d >= this.factor * typical;
  }
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
