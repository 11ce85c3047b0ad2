// npm run bench:soak [TASKS] — starts the service (`kirin start`, embedded defaults, 2 analysis
// threads unless KIRIN_WORKERS says otherwise), runs TASKS (default 100) tasks on a short face
// video made with ffmpeg from a face-api demo photo, and prints the service's idle RSS before any
// task, after 20 tasks and after the last, and the ratio of the last two. A flat ratio (≤ 1.05)
// means sustained work does not make the process grow. The service gets the glibc malloc settings
// `npm start` sets (MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=131072; README, Memory) unless the
// environment sets its own (e.g. MALLOC_ARENA_MAX=8 to see the process without them).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, makeVideo, sampleImage } from '../test/helpers/make-video.js';
import { serveFolder, startBenchService, submitTask, waitForTask } from './bench-common.js';

const total = Math.max(20, Number(process.argv[2] ?? 100));
const CHECKPOINT = 20;
/** Tasks in flight at once: enough to keep every analysis thread busy. */
const IN_FLIGHT = 4;
/** How long the service is left idle before its RSS is read (freed memory settles back). */
const SETTLE_MS = 5000;

const tmp = await makeTempDir('kirin-soak-');
await makeVideo({ out: tmp.file('face.mp4'), source: sampleImage(1), width: 1280, height: 720, seconds: 3 });
const files = await serveFolder(tmp.dir);
const svc = await startBenchService({
  KIRIN_WORKERS: process.env.KIRIN_WORKERS ?? '2',
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
  MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
  KIRIN_CREATE_LIMIT_PER_MIN: '0',
  KIRIN_RATE_LIMIT_PER_MIN: '0',
});

const rssMb = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${svc.pid}/status`, 'utf8'))![1]) / 1024);
const idleRss = async () => {
  await sleep(SETTLE_MS);
  return rssMb();
};

const statuses = new Map<string, number>();
let started = 0;
let done = 0;
/** Runs tasks until `upTo` have finished, IN_FLIGHT at a time. */
const runUpTo = async (upTo: number) => {
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (started < upTo) {
        const n = ++started;
        const task = await waitForTask(svc, await submitTask(svc, files.urlOf('face.mp4'), `soak-${n}`), 200);
        const key = task.status + (task.error ? ` ${task.error.code}` : '');
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        done++;
      }
    }),
  );
};

const t0 = performance.now();
const before = await idleRss();
console.log(`idle RSS before any task: ${before} MB`);
await runUpTo(CHECKPOINT);
const at20 = await idleRss();
console.log(`idle RSS after ${CHECKPOINT} tasks: ${at20} MB`);
await runUpTo(total);
const atEnd = await idleRss();
console.log(`idle RSS after ${done} tasks: ${atEnd} MB`);
console.log(`ratio after ${done} / after ${CHECKPOINT}: ${(atEnd / at20).toFixed(3)}× (goal ≤ 1.05×); tasks: ${[...statuses].map(([k, v]) => `${v} ${k}`).join(', ')}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
await svc.stop();
files.close();
await tmp.cleanup();
// a soak of failed tasks measures nothing
if ((statuses.get('completed') ?? 0) !== done) process.exit(1);
