/**
 * Minimal ISO-BMFF box surgery for crafting hostile test videos: find boxes by path, patch
 * fields, and rebuild a parent whose children changed (sizes fixed up on the way up).
 */

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset just past the box. */
  end: number;
  /** Size of the header (8, or 16 with a 64-bit size). */
  header: number;
}

/** Boxes whose children are boxes (the ones the crafted cases walk into). */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'udta', 'dinf']);

/** The boxes directly inside [start, end). */
export function childBoxes(buf: Buffer, start = 0, end = buf.length): Box[] {
  const out: Box[] = [];
  let p = start;
  while (p + 8 <= end) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) {
      size = end - p;
    }
    if (size < header || p + size > end) break;
    out.push({ type, start: p, end: p + size, header });
    p += size;
  }
  return out;
}

/** Every box at `path` (e.g. ['moov', 'trak', 'tkhd']), depth first. */
export function findBoxes(buf: Buffer, path: string[], start = 0, end = buf.length): Box[] {
  const [head, ...rest] = path;
  const found: Box[] = [];
  for (const b of childBoxes(buf, start, end)) {
    if (b.type !== head) continue;
    if (rest.length === 0) found.push(b);
    else if (CONTAINERS.has(b.type)) found.push(...findBoxes(buf, rest, b.start + b.header, b.end));
  }
  return found;
}

export function findBox(buf: Buffer, path: string[]): Box {
  const b = findBoxes(buf, path)[0];
  if (!b) throw new Error(`no box ${path.join('/')}`);
  return b;
}

/** A box with a 32-bit size around `payload`. */
export function makeBox(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + payload.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

/**
 * Replaces the box at `path` with `replacement` and fixes the sizes of its ancestors
 * (32-bit sizes only). Chunk offsets are not fixed, so change only boxes placed after mdat.
 */
export function replaceBox(buf: Buffer, path: string[], replacement: Buffer): Buffer {
  const target = findBox(buf, path);
  const delta = replacement.length - (target.end - target.start);
  const out = Buffer.concat([buf.subarray(0, target.start), replacement, buf.subarray(target.end)]);
  for (let depth = 1; depth < path.length; depth++) {
    const anc = findBoxes(buf, path.slice(0, depth)).find((b) => b.start <= target.start && b.end >= target.end);
    if (!anc || anc.header !== 8) throw new Error(`cannot resize ${path.slice(0, depth).join('/')}`);
    out.writeUInt32BE(anc.end - anc.start + delta, anc.start);
  }
  return out;
}
