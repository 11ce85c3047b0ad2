import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..');

export interface BenchSet {
  /** Folder of NAME.mp4|mov with NAME.truth.json. */
  dir: string;
  videos: string[];
  /** Fresh output folder .bench-out/<name>. */
  out: string;
  /** Runs the benchmark's score.mjs over `out`, prints its lines, returns its exit code. */
  score(): number;
}

/** The benchmark videos (DIR, default ../shared/bench/public) and the scorer next to them. */
export function benchSet(name: string, dirArg: string | undefined): BenchSet {
  const dir = resolve(dirArg ?? join(repoRoot, '..', 'shared', 'bench', 'public'));
  const scorer = [join(dir, '..', 'score.mjs'), join(repoRoot, '..', 'shared', 'bench', 'score.mjs')].find((p) => existsSync(p));
  if (!existsSync(dir) || !scorer) {
    console.error(`bench:${name} needs the benchmark folder (${dir}) and its score.mjs`);
    process.exit(2);
  }
  const out = join(repoRoot, '.bench-out', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  return {
    dir,
    out,
    videos: readdirSync(dir).filter((f) => /\.(mp4|mov)$/i.test(f)).sort(),
    score() {
      const r = spawnSync(process.execPath, [scorer, dir, out], { encoding: 'utf8' });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.status ?? 1;
    },
  };
}

export const baseName = (video: string) => video.replace(/\.(mp4|mov)$/i, '');
