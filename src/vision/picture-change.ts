import type { Box } from './geometry.js';
import { THUMB_COLS, THUMB_ROWS } from './scene-cut.js';

/**
 * The largest change of any thumbnail cell (mean luma, 0–255) between two thumbnails of frames
 * `width`×`height` pixels, leaving out cells that touch any of `outside` (boxes in the same
 * pixels): the faces being followed, whose own movement says nothing about new faces.
 */
export function largestChange(a: Float32Array, b: Float32Array, width: number, height: number, outside: readonly Box[]): number {
  const skip = new Uint8Array(THUMB_COLS * THUMB_ROWS);
  for (const box of outside) {
    const c0 = Math.max(0, Math.floor((box.x / width) * THUMB_COLS)), c1 = Math.min(THUMB_COLS - 1, Math.floor(((box.x + box.width) / width) * THUMB_COLS));
    const r0 = Math.max(0, Math.floor((box.y / height) * THUMB_ROWS)), r1 = Math.min(THUMB_ROWS - 1, Math.floor(((box.y + box.height) / height) * THUMB_ROWS));
    for (let r = r0; r <= r1; r++) skip.fill(1, r * THUMB_COLS + c0, r * THUMB_COLS + c1 + 1);
  }
  let most = 0;
  for (let i = 0; i < a.length; i++) if (!skip[i]) most = Math.max(most, Math.abs(a[i] - b[i]));
  return most;
}
