/** Axis-aligned box in pixels of some image: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point3 = [number, number, number];

export function boxCenter(b: Box): [number, number] {
  return [b.x + b.width / 2, b.y + b.height / 2];
}

/** A square box around b's centre whose side is factor × b's longer side. */
export function squareAround(b: Box, factor: number): Box {
  const [cx, cy] = boxCenter(b);
  const side = Math.max(b.width, b.height) * factor;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

export function boxOfPoints(points: readonly Point3[]): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export function scaleBox(b: Box, sx: number, sy: number = sx): Box {
  return { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy };
}

/**
 * Whether two boxes frame the same face: they overlap well, or their centres are closer than
 * half the larger box (small faces, where a few pixels of jitter ruin the overlap).
 */
export function sameFace(a: Box, b: Box, minIou = 0.3): boolean {
  if (iou(a, b) >= minIou) return true;
  const [ax, ay] = boxCenter(a), [bx, by] = boxCenter(b);
  return Math.hypot(ax - bx, ay - by) < 0.5 * Math.max(a.width, a.height, b.width, b.height);
}

/** Square regions covering an image along its longer side (two for 16:9, none for a square-ish image). */
export function squareTiles(width: number, height: number): Box[] {
  const side = Math.min(width, height);
  if (Math.max(width, height) < side * 1.3) return [];
  return width >= height
    ? [{ x: 0, y: 0, width: side, height: side }, { x: width - side, y: 0, width: side, height: side }]
    : [{ x: 0, y: 0, width: side, height: side }, { x: 0, y: height - side, width: side, height: side }];
}
