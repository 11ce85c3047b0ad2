// npm run bench:concurrency [VIDEO] — starts the service as `npm start` does (embedded defaults),
// warms its workers with one task, then times one task alone and four submitted at once (the
// 60 s 1080p30 clip of bench:speed unless VIDEO is given), and prints the ratio of the four to
// four times one, with the service's peak memory.
import { basename, dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { serveFolder, speedClip, startBenchService, submitTask, waitForTask } from './bench-common.js';

const video = resolve(process.argv[2] ?? speedClip());
const files = await serveFolder(dirname(video));
const svc = await startBenchService();
const url = files.urlOf(basename(video));

/** Submits n tasks at once and waits for all of them; returns the wall time in ms. */
async function batch(n: number, label: string): Promise<number> {
  const t0 = performance.now();
  const tasks = await Promise.all(Array.from({ length: n }, (_, i) => submitTask(svc, url, `${label}-${i}`)));
  const settled = await Promise.all(tasks.map((id) => waitForTask(svc, id)));
  const failed = settled.filter((t) => t.status !== 'completed');
  if (failed.length) throw new Error(`${failed.length} of ${n} tasks failed: ${JSON.stringify(failed[0].error)}`);
  return performance.now() - t0;
}

/** Peak resident memory of the service process so far (VmHWM: its worker threads count, its ffmpeg children do not). */
const peakMb = () => {
  const status = readFileSync(`/proc/${svc.pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
};

await batch(1, 'warm-up');
const one = await batch(1, 'one');
const four = await batch(4, 'four');
console.log(`video ${video}`);
console.log(`one task ${(one / 1000).toFixed(2)} s, four at once ${(four / 1000).toFixed(2)} s, service peak RSS ${peakMb()} MB`);
console.log(`ratio ${(four / (4 * one)).toFixed(2)}x (four at once / 4 × one)`);
await svc.stop();
files.close();
