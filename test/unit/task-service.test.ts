import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { ErrorCode, KirinError } from '../../src/errors.ts';
import { MODEL } from '../../src/model.ts';
import { CallbackQueue } from '../../src/tasks/callbacks.ts';
import { TaskService } from '../../src/tasks/task-service.ts';
import { InMemoryRepositories } from '../fakes/repositories.ts';

/**
 * The task service's rules over in-memory repositories (no database): what a create accepts,
 * replays of an external_task_id, the owner's view, listing with a cursor, cancelling, and a
 * task that ends exactly once, its end state, session and callback written together or not at all.
 */

const START = Date.UTC(2026, 0, 1);
const VIDEO_URL = 'https://videos.example.com/talk.mp4';

function setup(env: Record<string, string> = {}) {
  const repositories = new InMemoryRepositories();
  const clock = { t: START, now() { return this.t; } };
  const config = loadConfig({ KIRIN_DATA_DIR: '/nonexistent', ...env });
  const callbackQueue = new CallbackQueue(repositories, config.callbacks, 'whsec_test', clock);
  const seen = { created: [] as string[], cancelled: [] as string[], deliveries: 0, settled: [] as string[] };
  // the real queue stores the callback; its delivery (the network) is only counted here
  const callbacks = { enqueueIn: callbackQueue.enqueueIn.bind(callbackQueue), deliverDue: () => void seen.deliveries++ };
  const service = new TaskService(repositories, config, clock, callbacks, (id) => seen.created.push(id), (id) => seen.cancelled.push(id));
  service.events.on('settled', (id: string) => seen.settled.push(id));
  return { repositories, tables: repositories.tables, clock, service, seen };
}

const rejectsWith = (p: Promise<unknown>, code: string, message?: RegExp) =>
  assert.rejects(p, (e) => {
    assert.ok(e instanceof KirinError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });

describe('TaskService over in-memory repositories', () => {
  it('a create stores a pending task, hands it to the queue and answers the task object', async () => {
    const { service, tables, seen, clock } = setup();
    const task = await service.create('studio', { model: MODEL, video_url: VIDEO_URL, callback_url: 'https://hooks.example.com/kirin', external_task_id: 'ext-1' });
    assert.match(task.id, /^task_/);
    assert.deepEqual(
      { ...task, id: undefined },
      { id: undefined, model: MODEL, status: 'pending', progress: 0, created_at: Math.floor(clock.t / 1000), completed_at: null, external_task_id: 'ext-1', metadata: { queue_ms: null, processing_ms: null } },
    );
    const [row] = tables.tasks.all();
    assert.equal(row!.owner, 'studio');
    assert.equal(row!.video_url, VIDEO_URL);
    assert.equal(row!.callback_url, 'https://hooks.example.com/kirin');
    assert.deepEqual(seen.created, [task.id]);
  });

  it('a create is refused with the contract\'s code: wrong model, not exactly one source, bad URLs, a bad external_task_id', async () => {
    const { service, tables, seen } = setup();
    await rejectsWith(service.create('o', { model: 'other', video_url: VIDEO_URL }), ErrorCode.BadRequest, /model must be "kirin_identify_face", got "other"/);
    await rejectsWith(service.create('o', { video_url: VIDEO_URL }), ErrorCode.BadRequest, /got null/);
    await rejectsWith(service.create('o', { model: MODEL }), ErrorCode.BadRequest, /exactly one of video_id and video_url/);
    await rejectsWith(service.create('o', { model: MODEL, video_url: VIDEO_URL, video_id: 'vid_x' }), ErrorCode.BadRequest, /exactly one/);
    await rejectsWith(service.create('o', { model: MODEL, video_url: 'ftp://videos.example.com/a.mp4' }), ErrorCode.BadRequest);
    await rejectsWith(service.create('o', { model: MODEL, video_url: 'http://127.0.0.1/a.mp4' }), ErrorCode.UrlNotAllowed);
    await rejectsWith(service.create('o', { model: MODEL, video_url: VIDEO_URL, callback_url: 'http://localhost/hook' }), ErrorCode.UrlNotAllowed);
    await rejectsWith(service.create('o', { model: MODEL, video_url: VIDEO_URL, external_task_id: 'x'.repeat(201) }), ErrorCode.BadRequest, /external_task_id/);
    await rejectsWith(service.create('o', { model: MODEL, video_url: VIDEO_URL, external_task_id: 7 }), ErrorCode.BadRequest, /external_task_id/);
    await rejectsWith(service.create('o', { model: MODEL, video_id: 42 }), ErrorCode.BadRequest, /video_id must be a string/);
    assert.equal(tables.tasks.all().length, 0, 'nothing stored');
    assert.deepEqual(seen.created, []);
  });

  it('private URLs are let through when the service allows them', async () => {
    const { service } = setup({ KIRIN_ALLOW_PRIVATE_URLS: '1' });
    const task = await service.create('o', { model: MODEL, video_url: 'http://127.0.0.1:8000/a.mp4' });
    assert.equal(task.status, 'pending');
  });

  it('video_id: only the owner\'s upload, and only until it expires', async () => {
    const { service, tables, clock } = setup();
    const video = { owner: 'studio', blob_key: 'uploads/v.video', size_bytes: 1000, duration_ms: 5000, width: 640, height: 360, fps: 25, format: 'mp4', created_at: START };
    await tables.videos.insert({ ...video, id: 'vid_live', expires_at: START + 60_000 });
    await tables.videos.insert({ ...video, id: 'vid_old', expires_at: START });
    const task = await service.create('studio', { model: MODEL, video_id: 'vid_live' });
    assert.equal(tables.tasks.all().find((t) => t.id === task.id)!.video_id, 'vid_live');
    await rejectsWith(service.create('intruder', { model: MODEL, video_id: 'vid_live' }), ErrorCode.VideoIdUnknown, /vid_live is unknown or expired/);
    await rejectsWith(service.create('studio', { model: MODEL, video_id: 'vid_old' }), ErrorCode.VideoIdUnknown);
    await rejectsWith(service.create('studio', { model: MODEL, video_id: 'vid_none' }), ErrorCode.VideoIdUnknown);
    clock.t = START + 60_000;
    await rejectsWith(service.create('studio', { model: MODEL, video_id: 'vid_live' }), ErrorCode.VideoIdUnknown);
  });

  it('an external_task_id is idempotent per owner: a replay answers the first task and creates nothing, also when both come at once', async () => {
    const { service, tables, seen } = setup();
    const first = await service.create('studio', { model: MODEL, video_url: VIDEO_URL, external_task_id: 'job-7' });
    const again = await service.create('studio', { model: MODEL, video_url: 'https://videos.example.com/other.mp4', external_task_id: 'job-7' });
    assert.equal(again.id, first.id);
    // the replay is answered before its video is looked up: the first task, even for a video_id that is gone
    assert.equal((await service.create('studio', { model: MODEL, video_id: 'vid_gone', external_task_id: 'job-7' })).id, first.id);
    const other = await service.create('someone-else', { model: MODEL, video_url: VIDEO_URL, external_task_id: 'job-7' });
    assert.notEqual(other.id, first.id, 'another owner\'s id space');
    // both look the id up before either stores: the store's unique key lets one in, the other answers it
    const [a, b] = await Promise.all([0, 1].map(() => service.create('racer', { model: MODEL, video_url: VIDEO_URL, external_task_id: 'job-9' })));
    assert.equal(a!.id, b!.id);
    assert.equal(tables.tasks.all().filter((t) => t.owner === 'racer').length, 1);
    assert.equal(seen.created.length, 3, 'queued once per task stored');
  });

  it('get and list see only the owner\'s tasks; list is newest first, pages with after, filters by external_task_id', async () => {
    const { service, clock } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.t = START + i * 1000;
      ids.push((await service.create('studio', { model: MODEL, video_url: VIDEO_URL, external_task_id: i % 2 ? `odd${i}` : undefined })).id);
    }
    // two in the same millisecond: ordered by id
    clock.t = START + 5000;
    const same = [(await service.create('studio', { model: MODEL, video_url: VIDEO_URL })).id, (await service.create('studio', { model: MODEL, video_url: VIDEO_URL })).id].sort();
    await service.create('other', { model: MODEL, video_url: VIDEO_URL });

    assert.equal((await service.get('studio', ids[0]!))?.id, ids[0]);
    assert.equal(await service.get('other', ids[0]!), undefined, 'another owner\'s task is not found');

    const page1 = await service.list('studio', { limit: 3 });
    assert.deepEqual(page1.data.map((t) => t.id), [same[1], same[0], ids[4]]);
    assert.equal(page1.has_more, true);
    const page2 = await service.list('studio', { limit: 3, after: page1.data.at(-1)!.id });
    assert.deepEqual(page2.data.map((t) => t.id), [ids[3], ids[2], ids[1]]);
    const page3 = await service.list('studio', { limit: 3, after: page2.data.at(-1)!.id });
    assert.deepEqual(page3, { data: [await service.get('studio', ids[0]!)], has_more: false });

    assert.deepEqual((await service.list('studio', { limit: 10, externalTaskId: 'odd3' })).data.map((t) => t.id), [ids[3]]);
    await rejectsWith(service.list('studio', { limit: 3, after: 'task_unknown' }), ErrorCode.BadRequest, /after: unknown task id/);
    await rejectsWith(service.list('other', { limit: 3, after: ids[0]! }), ErrorCode.BadRequest, /unknown task id/);
  });

  it('cancel fails a pending or processing task once (014001301), queues its callback and tells the queue; a finished one is returned as it is', async () => {
    const { service, tables, seen, clock } = setup();
    const task = await service.create('studio', { model: MODEL, video_url: VIDEO_URL, callback_url: 'https://hooks.example.com/k' });
    clock.t += 2500;
    const cancelled = await service.cancel('studio', task.id);
    assert.equal(cancelled?.status, 'failed');
    assert.deepEqual(cancelled?.error, { code: ErrorCode.Cancelled, error_message: 'cancelled by its owner' });
    assert.equal(cancelled?.completed_at, Math.floor(clock.t / 1000));
    assert.deepEqual(seen.cancelled, [task.id]);
    assert.deepEqual(seen.settled, [task.id]);
    assert.equal(seen.deliveries, 1, 'the delivery loop is woken');
    const [cb] = tables.callbacks.all();
    assert.equal(cb!.task_id, task.id);
    assert.equal(cb!.url, 'https://hooks.example.com/k');
    assert.equal(cb!.status, 'pending');
    assert.deepEqual(JSON.parse(cb!.body), cancelled, 'the callback carries the task object as it ended');

    // again: nothing changes, nobody is told
    const again = await service.cancel('studio', task.id);
    assert.deepEqual(again, cancelled);
    assert.deepEqual(seen.cancelled, [task.id]);
    assert.equal(tables.callbacks.all().length, 1);

    // another owner's task, or none: not found, untouched
    const theirs = await service.create('other', { model: MODEL, video_url: VIDEO_URL });
    assert.equal(await service.cancel('studio', theirs.id), undefined);
    assert.equal((await service.get('other', theirs.id))?.status, 'pending');
    assert.equal(await service.cancel('studio', 'task_none'), undefined);

    // processing tasks are cancelled too
    const running = await service.create('studio', { model: MODEL, video_url: VIDEO_URL });
    await tables.tasks.claim(running.id, ['pending'], { process: 'test', now: clock.t });
    assert.equal((await service.cancel('studio', running.id))?.status, 'failed');
  });

  it('a task ends exactly once: of two ends at once one wins, and only its state and callback are stored', async () => {
    const { service, tables, seen, repositories, clock } = setup();
    const task = await service.create('studio', { model: MODEL, video_url: VIDEO_URL, callback_url: 'https://hooks.example.com/k' });
    await tables.tasks.claim(task.id, ['pending'], { process: 'test', now: clock.t });
    const results = await Promise.all([
      service.end(task.id, { status: 'completed', progress: 1, completed_at: clock.t, result_text: '{"code":0}', cost_usd: '0.0100' }),
      service.end(task.id, { status: 'failed', error_code: ErrorCode.Internal, error_message: 'late', completed_at: clock.t }),
    ]);
    assert.deepEqual(results, [true, false]);
    const ended = await service.get('studio', task.id);
    assert.equal(ended?.status, 'completed');
    assert.equal(ended?.output?.[0]?.content[0]?.text, '{"code":0}');
    assert.deepEqual(ended?.usage, { cost: '0.0100', discount: 0 });
    assert.equal(tables.callbacks.all().length, 1);
    assert.equal(JSON.parse(tables.callbacks.all()[0]!.body).status, 'completed');
    assert.deepEqual(seen.settled, [task.id], 'announced once');
    assert.equal(repositories.counts.transactions, 2);
    // a pending task is not ended by default (only from processing)
    const waiting = await service.create('studio', { model: MODEL, video_url: VIDEO_URL });
    assert.equal(await service.end(waiting.id, { status: 'completed', completed_at: clock.t }), false);
    assert.equal((await service.get('studio', waiting.id))?.status, 'pending');
  });

  it('the end state, what goes with it and the callback are stored together or not at all', async () => {
    const { service, tables, seen, repositories, clock } = setup();
    const task = await service.create('studio', { model: MODEL, video_url: VIDEO_URL, callback_url: 'https://hooks.example.com/k' });
    await tables.tasks.claim(task.id, ['pending'], { process: 'test', now: clock.t });
    const session = { id: 'sess_1', owner: 'studio', task_id: task.id, data: '{}', created_at: clock.t, expires_at: clock.t + 1000 };
    await assert.rejects(
      service.end(task.id, { status: 'completed', completed_at: clock.t, result_text: '{}' }, {
        also: async (tx) => {
          await tx.sessions.insert(session);
          throw new Error('the disk failed while storing the pictures');
        },
      }),
      /disk failed/,
    );
    assert.equal(repositories.counts.rollbacks, 1);
    assert.equal((await service.get('studio', task.id))?.status, 'processing', 'not ended');
    assert.deepEqual(tables.sessions.all(), [], 'no session');
    assert.deepEqual(tables.callbacks.all(), [], 'no callback');
    assert.deepEqual(seen.settled, [], 'nothing announced');
    assert.equal(seen.deliveries, 0);

    // the next attempt ends it, with its session
    assert.equal(await service.end(task.id, { status: 'completed', completed_at: clock.t, result_text: '{}' }, { also: (tx) => tx.sessions.insert(session) }), true);
    assert.equal(tables.sessions.all().length, 1);
    assert.equal(tables.callbacks.all().length, 1);
  });

  it('waitSettled answers at once for a settled task, when the task settles, or with its state at the timeout', async () => {
    const { service, tables, clock } = setup();
    const task = await service.create('studio', { model: MODEL, video_url: VIDEO_URL });
    const t0 = Date.now();
    assert.equal((await service.waitSettled('studio', task.id, 50))?.status, 'pending', 'its state at the timeout');
    assert.ok(Date.now() - t0 >= 45);
    await tables.tasks.claim(task.id, ['pending'], { process: 'test', now: clock.t });
    const waiting = service.waitSettled('studio', task.id, 10_000);
    setTimeout(() => void service.end(task.id, { status: 'completed', completed_at: clock.t, result_text: '{}' }), 20);
    const t1 = Date.now();
    assert.equal((await waiting)?.status, 'completed');
    assert.ok(Date.now() - t1 < 2000, 'woken by the end, not by the timeout');
    assert.equal((await service.waitSettled('studio', task.id, 10_000))?.status, 'completed');
    assert.equal(await service.waitSettled('other', task.id, 10_000), undefined, 'another owner\'s: not found at once');
  });
});
