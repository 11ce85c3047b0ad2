import { readdirSync, readFileSync } from 'node:fs';

/** Pids of running processes (but this one) whose command line mentions `needle` (Linux /proc). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1');
      if (cmd.includes(needle)) pids.push(Number(d));
    } catch {
      // process ended meanwhile
    }
  }
  return pids;
}
