// npm run bench:service [DIR] — starts the service (`kirin start`, embedded defaults, a temporary
// data folder), serves every video of DIR (default ../shared/bench/public) from a local static
// server, submits them all by video_url, polls, saves the task objects in .bench-out/service and
// prints the benchmark's score summary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseName, benchSet, serveFolder, startBenchService, submitTask, waitForTask } from './bench-common.js';

const { dir, out, videos, score } = benchSet('service', process.argv[2]);
const files = await serveFolder(dir);
const svc = await startBenchService();

const t0 = performance.now();
await Promise.all(
  videos.map(async (v) => {
    const task = await waitForTask(svc, await submitTask(svc, files.urlOf(v), v), 500);
    writeFileSync(join(out, `${baseName(v)}.json`), JSON.stringify(task, null, 2));
    console.log(`${v}: ${task.status}${task.error ? ` ${task.error.code}` : ''} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }),
);
console.log(`${videos.length} videos through the API in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await svc.stop();
files.close();
process.exit(score());
