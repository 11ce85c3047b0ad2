import { statfs } from 'node:fs/promises';

/**
 * A full disk is a passing condition, not a fault of the request or the task: it is answered
 * `507` and reported by /readyz, and a task that meets it is retried later. This module tells a
 * full-disk error apart from other errors and keeps track of whether the data folder is full.
 */

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
/** How an error that lost its code (a worker thread's, ffmpeg's stderr) still says it. */
const FULL_MESSAGE = /\b(ENOSPC|EDQUOT|SQLITE_FULL)\b|no space left on device|disk quota exceeded|database or disk is full/i;

/** True for "no space left" from the file system or SQLite, also when wrapped (`cause`) or reduced to its message. */
export function isDiskFull(e: unknown): boolean {
  for (let cur = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const err = cur as { code?: unknown; message?: unknown };
    if (typeof err.code === 'string' && FULL_CODES.has(err.code)) return true;
    if (typeof err.message === 'string' && FULL_MESSAGE.test(err.message)) return true;
  }
  return false;
}

/** After a full-disk error the folder counts as full this long, even when space shows up at once (quotas, a file removed by the failed write itself). */
export const FULL_HOLD_MS = 10_000;

/** The data folder's free space, as /readyz and the create routes see it. */
export class DiskSpace {
  private lastFullAt = -Infinity;

  constructor(
    private readonly dir: string,
    /** Below this many free bytes the folder counts as full. */
    private readonly minFreeBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a full-disk error just met. */
  noteFull(): void {
    this.lastFullAt = this.now();
  }

  /** Bytes free to this process in the folder; undefined when the file system cannot tell. */
  async freeBytes(): Promise<number | undefined> {
    try {
      const s = await statfs(this.dir);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }

  /** Whether the folder is full: less than the minimum free, or a full-disk error met within FULL_HOLD_MS. */
  async full(): Promise<boolean> {
    if (this.now() - this.lastFullAt < FULL_HOLD_MS) return true;
    const free = await this.freeBytes();
    return free !== undefined && free < this.minFreeBytes;
  }
}
