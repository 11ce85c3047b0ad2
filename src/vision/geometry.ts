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

/**
 * Whether two face boxes of one frame are one face measured twice (say from a hint and from a
 * detection, framed a little differently): faces side by side sit about a face's width apart or more.
 */
export function oneFace(a: Box, b: Box): boolean {
  const [ax, ay] = boxCenter(a), [bx, by] = boxCenter(b);
  return sameFace(a, b) || Math.hypot(ax - bx, ay - by) < 0.7 * Math.max(a.width, a.height, b.width, b.height);
}

/** Square regions covering an image along its longer side (two for 16:9, none for a square-ish image). */
export function squareTiles(width: number, height: number): Box[] {
  const side = Math.min(width, height);
  if (Math.max(width, height) < side * 1.3) return [];
  return width >= height
    ? [{ x: 0, y: 0, width: side, height: side }, { x: width - side, y: 0, width: side, height: side }]
    : [{ x: 0, y: 0, width: side, height: side }, { x: 0, y: height - side, width: side, height: side }];
}

/**
 * Pairs boxes of two moments by nearest centre, for faces that may have moved: a pair's centres
 * are at most `maxMove` box sizes apart and its sizes within a factor of 1.6. Returns [i, j] index pairs.
 */
export function nearestPairs(a: readonly Box[], b: readonly Box[], maxMove = 2): [number, number][] {
  const candidates: [number, number, number][] = [];
  a.forEach((p, i) => {
    const [px, py] = boxCenter(p);
    const ps = Math.max(p.width, p.height);
    b.forEach((q, j) => {
      const [qx, qy] = boxCenter(q);
      const qs = Math.max(q.width, q.height);
      const d = Math.hypot(px - qx, py - qy);
      if (d <= maxMove * Math.max(ps, qs) && Math.max(ps, qs) <= 1.6 * Math.min(ps, qs)) candidates.push([d, i, j]);
    });
  });
  candidates.sort((x, y) => x[0] - y[0]);
  const usedA = new Set<number>(), usedB = new Set<number>();
  const pairs: [number, number][] = [];
  for (const [, i, j] of candidates) {
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
    pairs.push([i, j]);
  }
  return pairs;
}
