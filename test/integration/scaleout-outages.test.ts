import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { portrait } from '../helpers/face-photos.ts';
import { freePort, newDeployment, removeScratchDirs, scaleoutSkip, spawnKirin, type Deployment, type KirinProcess } from '../helpers/scaleout.ts';
import { KEY_PATTERN, MODEL, assertNoStack, makeApi, serveFiles, settled, waitFor, type Api, type ApiResponse } from '../helpers/service.ts';

const devServices = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'dev-services.sh');
/** Stops (`outage`) or starts again (`recover`) one of the dev-services servers. */
const devService = (what: 'outage' | 'recover', name: 'postgres' | 'redis') => execFileSync('bash', [resolve(devServices), what, name], { stdio: ['ignore', 'ignore', 'pipe'] });

const DB_DOWN = /"msg":"database unavailable/g;
const DB_UP = /"msg":"database available again/g;
const REDIS_DOWN = /"msg":"redis unavailable/g;
const REDIS_UP = /"msg":"redis available again/g;
const LIMITS_DOWN = /"msg":"redis for rate limits unavailable/g;
const LIMITS_UP = /"msg":"redis for rate limits available again/g;
const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request's answer and how long it took. */
async function timed(call: () => Promise<ApiResponse>): Promise<ApiResponse & { ms: number }> {
  const t0 = performance.now();
  const r = await call();
  return { ...r, ms: Math.round(performance.now() - t0) };
}

/**
 * The dev-services Postgres and Redis stopped (`pg_ctl -m immediate`, a killed redis-server) and
 * started again under a running `kirin api` and `kirin worker`: no process dies, requests are
 * answered at once (503 + Retry-After for those that need the database; polls without Redis), the
 * outage is logged once per process, and every task completes exactly once afterwards.
 * It stops the servers the environment points at: run it on throwaway ones (CI does).
 */
describe('scale-out: the database and Redis go away and come back', { skip: scaleoutSkip }, () => {
  let dep: Deployment;
  let tmp: TempDir;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let apiProc: KirinProcess;
  let worker: KirinProcess;
  let api: Api;
  let video = '';

  const create = async (external: string) => {
    const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(video), external_task_id: external } });
    assert.equal(r.status, 200, r.text);
    return r.json.id as string;
  };
  const alive = (p: KirinProcess) => p.proc.exitCode === null && p.proc.signalCode === null;
  /** The settled task; on a timeout, what the database and the worker say about it. */
  const settledOrExplain = async (id: string) => {
    try {
      return await settled(api, id, 300_000);
    } catch (e) {
      const row = await dep.db.selectFrom('tasks').select(['status', 'progress', 'attempts', 'worker']).where('id', '=', id).executeTakeFirst();
      const job = await dep.redis.hgetall(`${dep.env.KIRIN_REDIS_PREFIX}:identify:${id}`);
      throw new Error(`${(e as Error).message}\ntask ${JSON.stringify(row)}\njob ${JSON.stringify({ ...job, data: undefined })}\nworker:\n${worker.output().slice(-3000)}`);
    }
  };
  const sessionsOf = async (taskId: string) => (await dep.db.selectFrom('sessions').select('id').where('task_id', '=', taskId).execute()).length;

  before(async () => {
    dep = await newDeployment('outage');
    dep.redis.on('error', () => undefined); // this test's own connection, while Redis is stopped
    tmp = await makeTempDir('kirin-outage-');
    files = await serveFiles(tmp.dir);
    const face = await portrait('a', tmp.file('a.png'));
    // long enough (a few seconds of analysis) for the outage to meet a running task
    video = (await makeSegmentsVideo({ out: tmp.file('face.mp4'), segments: [{ seconds: 0.5, blank: true }, { seconds: 4, image: face, fit: 0.8 }] })).out;
    const port = await freePort();
    const env = { ...dep.env, PORT: String(port), KIRIN_PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info', KIRIN_QUEUE_LOCK_MS: '4000' };
    apiProc = await spawnKirin('api', env);
    worker = await spawnKirin('worker', env);
    const key = KEY_PATTERN.exec(apiProc.output())?.[0];
    assert.ok(key, apiProc.output());
    api = makeApi(apiProc.url, key);
  });

  after(async () => {
    // leave the servers running for whatever comes next, even after a failure
    devService('recover', 'postgres');
    devService('recover', 'redis');
    for (const p of [apiProc, worker]) {
      if (!p) continue;
      await Promise.race([p.stop('SIGTERM'), sleep(15_000)]);
      await p.stop('SIGKILL');
    }
    removeScratchDirs([apiProc, worker].filter(Boolean).map((p) => p.pid));
    await files?.close();
    await dep?.destroy();
    await tmp?.cleanup();
  });

  it('Postgres stopped mid-task: 503 + Retry-After at once, /readyz not ready, no process dies, tasks complete once afterwards', async () => {
    const ids = [await create('pg-1'), await create('pg-2')];
    const taskId = ids[0];
    await waitFor(async () => (await api('GET', `/model/v1/generation/${taskId}`)).json?.status === 'processing', 180_000, 'a task processing');

    devService('outage', 'postgres');
    const answers: (ApiResponse & { ms: number; what: string })[] = [];
    const outageEnds = Date.now() + 12_000;
    while (Date.now() < outageEnds) {
      answers.push({ what: 'poll', ...(await timed(() => api('GET', `/model/v1/generation/${taskId}`, { timeoutMs: 20_000 }))) });
      answers.push({ what: 'create', ...(await timed(() => api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(video) }, timeoutMs: 20_000 }))) });
      answers.push({ what: 'readyz', ...(await timed(() => api('GET', '/readyz', { key: null, timeoutMs: 20_000 }))) });
      await sleep(500);
    }
    devService('recover', 'postgres');

    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(`postgres outage: ${answers.length} answers, slowest ${slowest} ms, median ${answers.map((a) => a.ms).sort((a, b) => a - b)[answers.length >> 1]} ms`);
    for (const a of answers) {
      assert.equal(a.status, 503, `${a.what} during the outage: ${a.text}`);
      if (a.what === 'readyz') continue;
      assert.equal(a.json?.error?.code, '014002097', `${a.what}: ${a.text}`);
      assert.ok(Number(a.headers.get('retry-after')) > 0, `${a.what} has Retry-After`);
      assertNoStack(a.text);
    }
    assert.ok(slowest < 3000, `every answer within 3 s (slowest ${slowest} ms)`);
    assert.ok(alive(apiProc) && alive(worker), `no process died:\n${apiProc.output().slice(-3000)}\n${worker.output().slice(-3000)}`);

    const tasks = await Promise.all(ids.map((id) => settledOrExplain(id)));
    const counts = { completed: 0, failed: 0 };
    for (const t of tasks) counts[t.status as 'completed' | 'failed']++;
    const sessions = await Promise.all(ids.map(sessionsOf));
    console.log(`postgres outage: after it, tasks ${JSON.stringify(counts)}, sessions per task ${sessions.join(',')}`);
    for (const t of tasks) assert.equal(t.status, 'completed', `${t.id}: ${JSON.stringify(t.error)}`);
    assert.deepEqual(sessions, [1, 1], 'each task completed once');
    assert.ok(alive(apiProc) && alive(worker), 'still running');

    for (const [name, p] of [['api', apiProc], ['worker', worker]] as const) {
      const out = p.output();
      assert.equal(count(out, DB_DOWN), 1, `${name} logs the outage once:\n${out.slice(-4000)}`);
      await waitFor(() => count(p.output(), DB_UP) === 1, 15_000, `${name} to log the recovery once`);
      assert.doesNotMatch(out, /Unhandled 'error' event|^\s+at /m, `${name}: no raw stack`);
    }
  });

  it('Redis stopped: polls answer within 5 s from the database, errors are logged as JSON lines once; work resumes when it is back', async () => {
    const before = await create('redis-before');
    assert.equal((await settledOrExplain(before)).status, 'completed');

    devService('outage', 'redis');
    const polls: number[] = [];
    let during = '';
    try {
      for (let i = 0; i < 6; i++) {
        const r = await timed(() => api('GET', `/model/v1/generation/${before}`, { timeoutMs: 60_000 }));
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.status, 'completed');
        polls.push(r.ms);
        await sleep(500);
      }
      const ready = await timed(() => api('GET', '/readyz', { key: null, timeoutMs: 60_000 }));
      assert.equal(ready.status, 503, 'not ready without Redis');
      polls.push(ready.ms);
      // a task created meanwhile is stored; its job is added once Redis is back
      const made = await timed(() => api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(video), external_task_id: 'redis-during' }, timeoutMs: 60_000 }));
      assert.equal(made.status, 200, made.text);
      polls.push(made.ms);
      during = made.json.id;
    } finally {
      devService('recover', 'redis');
    }
    console.log(`redis outage: answers in ${polls.join(', ')} ms (6 polls, /readyz, a create)`);
    for (const ms of polls) assert.ok(ms < 5000, `answered within 5 s (${ms} ms)`);
    assert.ok(alive(apiProc) && alive(worker), 'no process died');

    const afterId = await create('redis-after');
    const tasks = await Promise.all([during, afterId].map((id) => settledOrExplain(id)));
    console.log(`redis outage: after it, ${tasks.map((t) => `${t.status}`).join(', ')}; sessions ${(await Promise.all([during, afterId].map(sessionsOf))).join(',')}`);
    for (const t of tasks) assert.equal(t.status, 'completed', JSON.stringify(t.error));

    for (const [name, p] of [['api', apiProc], ['worker', worker]] as const) {
      const out = p.output();
      assert.equal(count(out, REDIS_DOWN), 1, `${name} logs the Redis outage once:\n${out.slice(-4000)}`);
      await waitFor(() => count(p.output(), REDIS_UP) === 1, 15_000, `${name} to log Redis's return once`);
      if (name === 'api') {
        assert.equal(count(out, LIMITS_DOWN), 1, 'the rate limiter\'s connection: its outage once');
        await waitFor(() => count(p.output(), LIMITS_UP) === 1, 15_000, 'the rate limiter\'s connection: its return once');
      }
      assert.doesNotMatch(out, /\[ioredis\]|^\s+at /m, `${name}: Redis errors as JSON lines, no raw stack`);
    }
  });
});
