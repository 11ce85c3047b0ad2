/**
 * What per-frame tracks cost, on one video (e.g. the 60 s 1080p clip built from
 * ../shared/bench/speed/long60_multi_1080p.spec.json with compose.mjs):
 *
 *   node --import tsx scripts/bench-tracks.ts VIDEO [ROUNDS]      (default 5 rounds)
 *
 * Three runs of one analysis (identifyFile, as a service task's analysis thread runs it), each a
 * child process timed by /usr/bin/time (wall, and CPU = user + system of it and its ffmpeg/ffprobe
 * children, which other work on the machine sways less), in alternating order each round:
 *   plain  — the analysis alone (what a task paid before, and `kirin identify` without --tracks);
 *   task   — what every service task now pays, whether or not its tracks are ever asked for: the
 *            frame listing (one ffprobe pass beside the analysis) and the stored tracks (JSON, gzip);
 *   tracks — asked for: the same, and the per-frame document made, JSON, gzipped.
 * Then medians, what each adds to plain, and the document's size and making time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadEngineConfig } from '../src/config.js';
import { identifyFile } from '../src/pipeline/identify-file.js';
import { summarize } from '../src/pipeline/result-json.js';
import { tracksDocument } from '../src/pipeline/tracks-document.js';
import { storedTracks } from '../src/storage/session-tracks.js';

type Kind = 'plain' | 'task' | 'tracks';
const KINDS: Kind[] = ['plain', 'task', 'tracks'];

/** One run in this process (the child's side): prints one JSON line of what it measured. */
async function runOne(kind: Kind, video: string, out: string): Promise<void> {
  const started = performance.now();
  const analysed = await identifyFile(video, { outDir: join(out, 'faces'), engine: loadEngineConfig(process.env), frameTimes: kind !== 'plain' });
  const analysedAt = performance.now();
  const line: Record<string, number> = { analysisMs: analysed.analysis.stats.analysisMs };
  if (kind !== 'plain') {
    const summary = summarize(analysed);
    const stored = gzipSync(JSON.stringify(storedTracks(summary)));
    line.storedGzBytes = stored.length;
    line.storeMs = performance.now() - analysedAt;
    if (kind === 'tracks') {
      const t0 = performance.now();
      const doc = tracksDocument(summary, summary.frame_source!);
      const t1 = performance.now();
      const json = JSON.stringify(doc);
      const gz = gzipSync(json);
      writeFileSync(join(out, 'tracks.json'), json);
      Object.assign(line, { buildMs: t1 - t0, jsonGzMs: performance.now() - t1, docBytes: json.length, docGzBytes: gz.length, frames: doc.video.frame_count, faces: doc.faces.length + doc.rejected_faces.length });
    }
  }
  line.totalMs = performance.now() - started;
  console.log(JSON.stringify(line));
}

const args = process.argv.slice(2);
if (args[0] === '--run') {
  await runOne(args[1] as Kind, args[2], args[3]);
  process.exit(0);
}
const [videoArg, roundsArg] = args;
if (!videoArg) {
  console.error('usage: bench-tracks.ts VIDEO [ROUNDS]');
  process.exit(2);
}
const video = resolve(videoArg);
const rounds = Number(roundsArg ?? 5);
const out = mkdtempSync(join(tmpdir(), 'kirin-bench-tracks-'));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

interface Run {
  wall: number;
  cpu: number;
  line: Record<string, number>;
}

function timed(kind: Kind): Run {
  const cpuFile = join(out, 'cpu.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', cpuFile, process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, '--run', kind, video, out], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${kind} run: exit ${r.status}: ${r.stdout.slice(-300)} ${r.stderr.slice(-600)}`);
  const [wall, user, system] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
  return { wall, cpu: user + system, line: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

const runs: Record<Kind, Run[]> = { plain: [], task: [], tracks: [] };
for (let i = 0; i < rounds; i++) {
  // a different order each round, so a drift in the machine's load weighs on every kind
  const order = KINDS.map((_, k) => KINDS[(k + i) % KINDS.length]);
  for (const kind of order) runs[kind].push(timed(kind));
  console.log(`round ${i + 1}: ${KINDS.map((k) => `${k} ${runs[k][i].wall.toFixed(2)} s (CPU ${runs[k][i].cpu.toFixed(2)} s)`).join(', ')}`);
}
const med = (k: Kind, f: (r: Run) => number) => median(runs[k].map(f));
const added = (k: Kind, f: (r: Run) => number) => `${(100 * (med(k, f) / med('plain', f) - 1)).toFixed(1)}%`;
for (const k of KINDS) {
  const vs = k === 'plain' ? '' : ` (${added(k, (r) => r.wall)} wall, ${added(k, (r) => r.cpu)} CPU vs plain)`;
  console.log(`${k.padEnd(6)}: median ${med(k, (r) => r.wall).toFixed(2)} s wall, ${med(k, (r) => r.cpu).toFixed(2)} s CPU${vs}`);
}
const t = runs.tracks.map((r) => r.line);
console.log(`stored tracks per task: ${kb(median(runs.task.map((r) => r.line.storedGzBytes)))} gzipped, ${median(runs.task.map((r) => r.line.storeMs)).toFixed(0)} ms`);
console.log(
  `document (${t[0].frames} frames, ${t[0].faces} faces): ${kb(t[0].docBytes)} JSON, ${kb(t[0].docGzBytes)} gzipped; made in ${median(t.map((l) => l.buildMs)).toFixed(0)} ms + JSON and gzip ${median(t.map((l) => l.jsonGzMs)).toFixed(0)} ms (medians)`,
);
rmSync(out, { recursive: true, force: true });
