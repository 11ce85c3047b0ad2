// npm run bench:scaleout [DIR] [--workers 1,2] [--kill] [--rounds N]
//
// The benchmark videos of DIR (default ../shared/bench/public) through a scale-out deployment:
// one `kirin api` and N `kirin worker` processes (KIRIN_WORKERS=1 each) on Postgres, Redis and
// S3 — the servers of the KIRIN_* settings, or, when they are unset, throwaway ones started (and
// stopped) with scripts/dev-services.sh. Each worker count gets a fresh database, queue prefix and
// bucket prefix. All tasks are submitted at once (by video_url); the wall time from the first
// submission to the last completion gives tasks per minute. With --kill, the worker holding a
// task is killed with SIGKILL as soon as that task is under way (a new worker is started only if
// none would be left). The task objects of the first round go to .bench-out/scaleout-<label> and
// are scored with the benchmark's score.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, newDeployment, removeScratchDirs, spawnKirin, type KirinProcess } from '../test/helpers/scaleout.js';
import { API_KEY_PATTERN } from '../src/storage/api-keys.js';
import { baseName, benchSet, repoRoot, serveFolder, submitTask, waitForTask, type ApiTarget } from './bench-common.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: 'string', default: '1,2' }, kill: { type: 'boolean', default: false }, rounds: { type: 'string', default: '1' } },
});
const workerCounts = opts.workers!.split(',').map(Number);
const rounds = Math.max(1, Number(opts.rounds));

// the servers: as configured, else throwaway ones for this run
let stopServices = false;
if (!process.env.KIRIN_DATABASE_URL || !process.env.KIRIN_REDIS_URL || !process.env.KIRIN_STORAGE_URL) {
  const exports = execFileSync('bash', [join(repoRoot, 'scripts', 'dev-services.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const m of exports.matchAll(/^export (KIRIN_[A-Z0-9_]+)=(.*)$/gm)) process.env[m[1]] = m[2];
  stopServices = true;
}

const { dir, videos } = benchSet('scaleout', positionals[0]);
const files = await serveFolder(dir);

/** CPU seconds a process and its finished children (ffmpeg) have used, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100; // utime stime cutime cstime, in ticks
  } catch {
    return 0;
  }
}

interface RunResult {
  label: string;
  tasks: number;
  seconds: number;
  failed: number;
  scoreExit: number;
}

async function run(workerCount: number, kill: boolean): Promise<RunResult> {
  const label = `${workerCount}w${kill ? '-kill' : ''}`;
  const set = benchSet(`scaleout-${label}`, positionals[0]);
  const dep = await newDeployment(`bench${label}`);
  const port = await freePort();
  const env = { ...dep.env, PORT: String(port), KIRIN_PUBLIC_URL: `http://127.0.0.1:${port}`, KIRIN_WORKERS: '1', KIRIN_QUEUE_LOCK_MS: '10000' };
  const procs: KirinProcess[] = [];
  try {
    const api = await spawnKirin('api', env);
    procs.push(api);
    const key = API_KEY_PATTERN.exec(api.output())![0];
    const workers = await Promise.all(Array.from({ length: workerCount }, () => spawnKirin('worker', env)));
    procs.push(...workers);
    const svc: ApiTarget = { base: api.url, auth: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };

    const load = loadavg()[0];
    const cpu0 = new Map(workers.map((w) => [w.pid, cpuSeconds(w.pid)]));
    const t0 = performance.now();
    const submitted: { video: string; round: number; id: string }[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const v of videos) submitted.push({ video: v, round, id: await submitTask(svc, files.urlOf(v), `${v}#${round}`) });
    }
    let killed = !kill;
    const killer = async () => {
      while (!killed) {
        const busy = await dep.db.selectFrom('tasks').select(['id', 'worker']).where('status', '=', 'processing').where('progress', '>', 0.2).orderBy('started_at').executeTakeFirst();
        const victim = busy && workers.find((w) => `${hostname()}:${w.pid}` === busy.worker);
        if (victim) {
          await victim.stop('SIGKILL');
          workers.splice(workers.indexOf(victim), 1);
          console.log(`killed worker ${victim.pid} (SIGKILL) while it ran ${busy.id}, ${((performance.now() - t0) / 1000).toFixed(1)} s in`);
          if (workers.length === 0) {
            const replacement = await spawnKirin('worker', env);
            workers.push(replacement);
            procs.push(replacement);
            console.log(`started worker ${replacement.pid} in its place`);
          }
          killed = true;
        } else await new Promise((r) => setTimeout(r, 100));
      }
    };
    const killing = killer();
    const settled = await Promise.all(
      submitted.map(async (s) => {
        const task = await waitForTask(svc, s.id, 300);
        if (s.round === 0) writeFileSync(join(set.out, `${baseName(s.video)}.json`), JSON.stringify(task, null, 2));
        return task;
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    killed = true;
    await killing;
    const workerCpu = workers.reduce((sum, w) => sum + cpuSeconds(w.pid) - (cpu0.get(w.pid) ?? 0), 0);
    const failed = settled.filter((t) => t.status !== 'completed');
    for (const f of failed) console.log(`${f.id}: ${f.status} ${f.error?.code ?? ''}`);
    console.log(`scale-out, ${workerCount} worker${workerCount > 1 ? 's' : ''}${kill ? ', one killed mid-run' : ''}: ${settled.length} tasks in ${seconds.toFixed(1)} s = ${((settled.length / seconds) * 60).toFixed(1)} tasks/min`);
    console.log(`  surviving workers used ${workerCpu.toFixed(1)} CPU s (${(workerCpu / seconds).toFixed(2)} cores on average); load average at start ${load.toFixed(2)}`);
    const scoreExit = set.score();
    return { label, tasks: settled.length, seconds, failed: failed.length, scoreExit };
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGTERM');
    removeScratchDirs(procs.map((p) => p.pid)); // the killed worker's
    await dep.destroy();
  }
}

const results: RunResult[] = [];
try {
  for (const n of workerCounts) results.push(await run(n, false));
  if (opts.kill) results.push(await run(Math.max(...workerCounts), true));
} finally {
  files.close();
  if (stopServices) execFileSync('bash', [join(repoRoot, 'scripts', 'dev-services.sh'), 'stop'], { stdio: 'inherit' });
}
console.log('\nsummary:');
for (const r of results) {
  console.log(`  ${r.label.padEnd(8)} ${r.tasks} tasks, ${r.failed} failed, ${r.seconds.toFixed(1)} s, ${((r.tasks / r.seconds) * 60).toFixed(1)} tasks/min, score exit ${r.scoreExit}`);
}
process.exit(results.every((r) => r.failed === 0 && r.scoreExit === 0) ? 0 : 1);
