import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../src/tasks/bull-queue.ts';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { freePort, newDeployment, removeScratchDirs, scaleoutSkip, spawnKirin, type Deployment, type KirinProcess } from '../helpers/scaleout.ts';
import { KEY_PATTERN, MODEL, makeApi, makeFaceVideo, serveFiles, settled, startReceiver, startTestService, waitFor, type Api } from '../helpers/service.ts';

/** What must be equal between two runs on the same video: everything but ids and URLs. */
function comparable(resultText: string) {
  const { data } = JSON.parse(resultText);
  return {
    final_unit_deduction: data.final_unit_deduction,
    face_data: data.face_data.map(({ face_image: _u, ...f }: any) => f),
    video: data.video,
    rejected_faces: data.rejected_faces,
  };
}

const intervals = (task: any) => JSON.parse(task.output[0].content[0].text).data.face_data.map((f: any) => [f.face_id, f.start_time, f.end_time]);

async function download(url: string): Promise<Buffer> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `GET ${url}`);
  assert.equal(r.headers.get('content-type'), 'image/jpeg');
  return Buffer.from(await r.arrayBuffer());
}

/**
 * The scale-out deployment as it runs in production: one `kirin api` and two `kirin worker`
 * processes on real Postgres, Redis (BullMQ) and an S3-compatible server.
 */
describe('scale-out: one API and two workers as processes on Postgres, Redis and S3', { skip: scaleoutSkip }, () => {
  let dep: Deployment;
  let tmp: TempDir;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let env: NodeJS.ProcessEnv;
  let apiProc: KirinProcess;
  const workers: KirinProcess[] = [];
  const all: KirinProcess[] = [];
  let key: string;
  let api: Api;
  let queue: Queue;
  const video = { a: '', b: '', long: '' };
  const LONG_MS = 20_000;
  /** Completed tasks of the first test, by video name, for later tests. */
  const done = new Map<string, any>();

  const workerOf = async (taskId: string) => (await dep.db.selectFrom('tasks').select('worker').where('id', '=', taskId).executeTakeFirstOrThrow()).worker;
  const pidName = (p: KirinProcess) => `${hostname()}:${p.pid}`;
  const create = async (body: Record<string, unknown>) => {
    const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, ...body } });
    assert.equal(r.status, 200, r.text);
    return r.json.id as string;
  };
  const startWorker = async () => {
    const w = await spawnKirin('worker', env);
    workers.push(w);
    all.push(w);
    return w;
  };

  before(async () => {
    dep = await newDeployment('cluster');
    tmp = await makeTempDir('kirin-cluster-');
    files = await serveFiles(tmp.dir);
    receiver = await startReceiver();
    video.a = await makeFaceVideo(tmp, 'face-a', 'a');
    video.b = await makeFaceVideo(tmp, 'face-b', 'b');
    const c = await portrait('c', tmp.file('c.png'));
    video.long = (await makeSegmentsVideo({ out: tmp.file('long.mp4'), segments: [{ seconds: 0.5, blank: true }, { seconds: (LONG_MS - 500) / 1000, image: c, fit: 0.8 }] })).out;

    const port = await freePort();
    env = { ...dep.env, PORT: String(port), KIRIN_PUBLIC_URL: `http://127.0.0.1:${port}`, KIRIN_QUEUE_LOCK_MS: '4000' };
    apiProc = await spawnKirin('api', env);
    all.push(apiProc);
    key = KEY_PATTERN.exec(apiProc.output())?.[0] ?? '';
    assert.ok(key, `the first API start prints a key: ${apiProc.output()}`);
    api = makeApi(apiProc.url, key);
    await Promise.all([startWorker(), startWorker()]);
    queue = new Queue(QUEUE_NAME, { connection: dep.redis, prefix: env.KIRIN_REDIS_PREFIX });
  });

  after(async () => {
    await queue?.close();
    for (const p of all) {
      await Promise.race([p.stop('SIGTERM'), new Promise((r) => setTimeout(r, 15_000))]);
      await p.stop('SIGKILL');
    }
    // what the processes killed on purpose left behind
    removeScratchDirs(all.map((p) => p.pid));
    await receiver?.close();
    await files?.close();
    await dep?.destroy();
    await tmp?.cleanup();
  });

  it('`kirin keys create` works against the Postgres database while the API runs', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['bin/kirin.js', 'keys', 'create', '--name', 'studio', '--owner', 'studio'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const made = r.stdout.trimEnd().split('\n').pop()!;
    assert.match(made, new RegExp(`^${KEY_PATTERN.source}$`));
    const list = await api('GET', '/model/v1/generation', { key: made });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json, { data: [], has_more: false });
    const listed = spawnSync(process.execPath, ['bin/kirin.js', 'keys', 'list'], { env, encoding: 'utf8' });
    assert.match(listed.stdout, /\tstudio\towner=studio\t/);
  });

  it('tasks spread over both workers; results equal the embedded mode\'s; pictures come from S3 through the API', async () => {
    const order = ['a', 'b', 'a', 'b'] as const;
    const ids: string[] = [];
    for (const [i, v] of order.entries()) ids.push(await create({ video_url: files.fileUrl(video[v]), external_task_id: `spread-${i}` }));
    const tasks: any[] = [];
    for (const id of ids) tasks.push(await settled(api, id, 120_000));
    for (const t of tasks) assert.equal(t.status, 'completed', JSON.stringify(t.error));
    const ran = new Set(await Promise.all(ids.map(workerOf)));
    assert.deepEqual([...ran].sort(), workers.map(pidName).sort(), 'both workers took tasks');

    // the same videos on embedded defaults, in this process
    const embedded = await startTestService();
    try {
      for (const v of ['a', 'b'] as const) {
        const mine = tasks[order.indexOf(v)];
        done.set(v, mine);
        const r = await embedded.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(video[v]) } });
        const reference = await settled(embedded.api, r.json.id, 120_000);
        assert.equal(reference.status, 'completed');
        assert.deepEqual(comparable(mine.output[0].content[0].text), comparable(reference.output[0].content[0].text), `video ${v}`);
        assert.deepEqual(mine.usage, reference.usage);
        assert.deepEqual(mine.metadata.video, reference.metadata.video);
        const picture = JSON.parse(mine.output[0].content[0].text).data.face_data[0].face_image;
        assert.ok(picture.startsWith(`${env.KIRIN_PUBLIC_URL}/files/`), picture);
        const refPicture = JSON.parse(reference.output[0].content[0].text).data.face_data[0].face_image;
        const [got, want] = await Promise.all([download(picture), download(new URL(new URL(refPicture).pathname + new URL(refPicture).search, embedded.svc.url).href)]);
        assert.ok(got.equals(want), 'the same face picture');
      }
    } finally {
      await embedded.close();
    }
    const pictures = await dep.objects('faces/');
    assert.equal(pictures.length, 4, `one picture per task in the bucket: ${pictures}`);
    assert.equal((await dep.objects('fetched/')).length, 4, 'fetched videos are kept in the bucket');
  });

  it('an upload is stored in S3 and analysed from there; the synchronous route waits across processes', async () => {
    const up = await api('POST', '/v1/videos', { raw: await readFile(video.b), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(await dep.objects('uploads/'), [`uploads/${up.json.video_id}.video`]);
    const sync = await api('POST', '/v1/videos/identify-face', { body: { video_id: up.json.video_id }, timeoutMs: 120_000 });
    assert.equal(sync.status, 200, sync.text);
    assert.deepEqual(comparable(JSON.stringify(sync.json)), comparable(done.get('b').output[0].content[0].text));
    const session = await api('GET', `/v1/sessions/${sync.json.data.session_id}`);
    assert.equal(session.status, 200, session.text);
    await download(session.json.face_data[0].face_image);
  });

  it('exactly once: a task delivered again after it completed (its worker died before acknowledging) is not redone, charged or called back again', async () => {
    const id = await create({ video_url: files.fileUrl(video.a), callback_url: `${receiver.url}/again` });
    const first = await settled(api, id, 120_000);
    assert.equal(first.status, 'completed');
    await waitFor(() => receiver.on('/again').length === 1, 15_000, 'the callback');
    const before = await dep.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    // the first job is removed once its worker acknowledges it, which may come a moment after the
    // task ended; adding the same job id before then would be a no-op
    await waitFor(async () => (await queue.getJob(id)) === undefined, 15_000, 'the first job to be acknowledged');
    // the queue hands the finished task's job out again, as after a worker died between commit and acknowledgement
    const job = await queue.add(QUEUE_NAME, { taskId: id }, { jobId: id });
    await waitFor(async () => (await job.getState()) === 'completed', 60_000, 'the redelivered job to be processed');
    await new Promise((r) => setTimeout(r, 1500)); // time for a wrong second callback to show up

    const afterwards = await dep.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(afterwards, before, 'the task row is untouched: same result, cost, completion time, attempts');
    assert.deepEqual(await api('GET', `/model/v1/generation/${id}`).then((r) => r.json), first);
    const sessions = await dep.db.selectFrom('sessions').select('id').where('task_id', '=', id).execute();
    assert.equal(sessions.length, 1, 'one session');
    const callbacks = await dep.db.selectFrom('callbacks').selectAll().where('task_id', '=', id).execute();
    assert.equal(callbacks.length, 1, 'one callback queued');
    assert.equal(receiver.on('/again').length, 1, 'called back once');
  });

  it('exactly once: two deliveries of one task at the same time give one completion, one session, one callback, no stray pictures', async () => {
    const id = await create({ video_url: files.fileUrl(video.b), callback_url: `${receiver.url}/twice` });
    await queue.add(QUEUE_NAME, { taskId: id }, { jobId: `${id}-dup` });
    const task = await settled(api, id, 120_000);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const row = await dep.db.selectFrom('tasks').select(['attempts', 'cost_usd']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.attempts, 2, 'both deliveries claimed the task');
    await waitFor(async () => (await queue.getJob(`${id}-dup`).then((j) => j?.getState())) === 'completed' && !(await queue.getJob(id)), 60_000, 'both jobs to finish');
    await waitFor(() => receiver.on('/twice').length === 1, 15_000, 'the callback');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(receiver.on('/twice').length, 1, 'called back once');
    assert.equal(JSON.parse(receiver.on('/twice')[0].body).status, 'completed');
    const sessions = await dep.db.selectFrom('sessions').select('id').where('task_id', '=', id).execute();
    assert.equal(sessions.length, 1);
    const known = new Set((await dep.db.selectFrom('files').select('blob_key').execute()).map((f) => f.blob_key));
    const stored = await dep.objects('faces/');
    assert.deepEqual(stored.filter((k) => !known.has(k)), [], 'every picture in the bucket belongs to a session');
  });

  it('a task cancelled through the API is stopped on its worker', async () => {
    const id = await create({ video_url: files.fileUrl(video.long) });
    await waitFor(async () => (await api('GET', `/model/v1/generation/${id}`)).json.progress > 0.1, 120_000, 'the long task to be well under way', 50);
    const c = await api('DELETE', `/model/v1/generation/${id}`);
    assert.equal(c.json.status, 'failed');
    assert.equal(c.json.error.code, '014001301');
    const cancelledAt = Date.now();
    await waitFor(async () => !(await queue.getJob(id)), 20_000, 'the worker to drop the job');
    const stoppedAfter = Date.now() - cancelledAt;
    const task = await settled(api, id);
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, '014001301');
    assert.equal((await dep.db.selectFrom('sessions').select('id').where('task_id', '=', id).execute()).length, 0);
    assert.ok(stoppedAfter < 5000, `stopped ${stoppedAfter} ms after the cancel, not at the end of the analysis`);
  });

  it('a worker killed with SIGKILL mid-task: its task completes on the other worker, once', async () => {
    const id = await create({ video_url: files.fileUrl(video.long), callback_url: `${receiver.url}/killed` });
    await waitFor(async () => (await api('GET', `/model/v1/generation/${id}`)).json.progress > 0.1, 120_000, 'the task to be under way', 50);
    const holder = await workerOf(id);
    const victim = workers.find((w) => pidName(w) === holder);
    assert.ok(victim, `a worker process holds the task (${holder})`);
    await victim.stop('SIGKILL');
    workers.splice(workers.indexOf(victim), 1);

    const task = await settled(api, id, 180_000);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    assert.deepEqual(intervals(task), [['0', 500, LONG_MS]]);
    assert.equal(await workerOf(id), pidName(workers[0]), 'finished by the surviving worker');
    const row = await dep.db.selectFrom('tasks').select('attempts').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.attempts, 2);
    await waitFor(() => receiver.on('/killed').length === 1, 15_000, 'the callback');
    assert.equal((await dep.db.selectFrom('sessions').select('id').where('task_id', '=', id).execute()).length, 1);
    await startWorker(); // two workers again for what follows
  });

  it('an API restart loses nothing: tasks created just before a SIGKILL, and one stored but never queued, complete once', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await create({ video_url: files.fileUrl(n % 2 ? video.a : video.b), callback_url: `${receiver.url}/restart/${n}`, external_task_id: `restart-${n}` }));
    await apiProc.stop('SIGKILL');
    // as if an API process died between storing a task and queueing it
    const orphan = 'task_storedbutnotqueued0';
    await dep.db
      .insertInto('tasks')
      .values({
        id: orphan, owner: 'default', model: MODEL, external_task_id: 'orphan', status: 'pending', progress: 0, video_id: null,
        video_url: files.fileUrl(video.a), callback_url: `${receiver.url}/restart/orphan`, created_at: Date.now(), started_at: null,
        completed_at: null, error_code: null, error_message: null, result_text: null, cost_usd: null, video_meta: null,
      })
      .execute();
    ids.push(orphan);

    apiProc = await spawnKirin('api', env);
    all.push(apiProc);
    assert.doesNotMatch(apiProc.output(), KEY_PATTERN, 'no new key: the keys are in Postgres');
    api = makeApi(apiProc.url, key);
    for (const id of ids) {
      const task = await settled(api, id, 180_000);
      assert.equal(task.status, 'completed', `${id}: ${JSON.stringify(task.error)}`);
      assert.deepEqual(intervals(task), [['0', 500, 3000]]);
    }
    for (const path of ['/restart/1', '/restart/2', '/restart/3', '/restart/orphan']) {
      await waitFor(() => receiver.on(path).length > 0, 15_000, `callback ${path}`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const path of ['/restart/1', '/restart/2', '/restart/3', '/restart/orphan']) assert.equal(receiver.on(path).length, 1, `${path} called back once`);
    const list = await api('GET', '/model/v1/generation?limit=100');
    const these = list.json.data.filter((t: any) => /^(restart-\d|orphan)$/.test(t.external_task_id ?? ''));
    assert.deepEqual(these.map((t: any) => t.id).sort(), [...ids].sort(), 'no task lost or duplicated');
  });
});
