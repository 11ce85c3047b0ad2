import { getPriority, setPriority } from 'node:os';

/**
 * Makes a process `by` nicer than the calling thread (up to 19, the nicest); with no pid, the
 * calling thread itself (on Linux a nice value is a thread's own). Where that is not permitted
 * (or the process is gone) it stays as it was.
 */
export function lowerPriority(by: number, pid = 0): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + by));
  } catch {
    // not permitted here: it runs on as it was
  }
}
