import { open } from 'node:fs/promises';

export type ContainerFormat = 'mp4' | 'mov';

// Old QuickTime files have no ftyp and start straight with one of these atoms.
const QUICKTIME_FIRST_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

// ISO-BMFF brands of still images (HEIF/AVIF): same box structure, but not a video container.
const IMAGE_BRANDS = new Set(['mif1', 'msf1', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'avif', 'avis']);

/**
 * Judges the container from the first bytes only (never the file name):
 * an ISO-BMFF/QuickTime top-level box at offset 0 → 'mp4' or 'mov'; anything else → null.
 */
export async function sniffContainer(path: string): Promise<ContainerFormat | null> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return sniffContainerBytes(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export function sniffContainerBytes(head: Uint8Array): ContainerFormat | null {
  if (head.length < 8) return null;
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const size = buf.readUInt32BE(0);
  // 0 = box runs to end of file, 1 = 64-bit size follows; otherwise it must at least hold its header.
  if (size !== 0 && size !== 1 && size < 8) return null;
  const type = buf.toString('latin1', 4, 8);
  if (type === 'ftyp') {
    if (buf.length < 12) return null;
    const brand = buf.toString('latin1', 8, 12);
    if (brand === 'qt  ') return 'mov';
    if (IMAGE_BRANDS.has(brand)) return null;
    return 'mp4';
  }
  return QUICKTIME_FIRST_ATOMS.has(type) ? 'mov' : null;
}
