import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createMetrics } from '../../src/api/metrics.ts';
import { buildServer } from '../../src/api/server.ts';
import { UrlSigner } from '../../src/api/signed-urls.ts';
import { loadConfig } from '../../src/config.ts';
import { MODEL } from '../../src/model.ts';
import { createApiKey } from '../../src/storage/api-keys.ts';
import { LocalBlobStore } from '../../src/storage/blobs.ts';
import { CallbackQueue } from '../../src/tasks/callbacks.ts';
import { TaskService } from '../../src/tasks/task-service.ts';
import { InMemoryRepositories } from '../fakes/repositories.ts';

/**
 * The route groups run on repositories alone: the whole HTTP app over in-memory ones (no
 * database, nothing listening; Fastify's inject), keyed routes guarded by the context's hook.
 */
describe('the API over in-memory repositories', () => {
  const NOW = Date.UTC(2026, 0, 1);
  let dir: string;
  let app: FastifyInstance;
  let repositories: InMemoryRepositories;
  let key: string;
  let signer: UrlSigner;
  const queued: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kirin-api-fakes-'));
    repositories = new InMemoryRepositories();
    const clock = { now: () => NOW };
    const config = loadConfig({ KIRIN_DATA_DIR: dir, KIRIN_SYNC_TIMEOUT_MS: '50' });
    const callbacks = new CallbackQueue(repositories, config.callbacks, 'whsec_test', clock);
    const tasks = new TaskService(repositories, config, clock, callbacks, (id) => queued.push(id), () => undefined);
    signer = new UrlSigner(Buffer.alloc(32, 7), 'http://kirin.test');
    app = await buildServer({
      config, repositories, tasks, signer, clock,
      blobs: new LocalBlobStore(join(dir, 'blobs')),
      metrics: createMetrics(repositories, () => 0),
      ready: async () => true,
    });
    key = (await createApiKey(repositories.apiKeys, 'studio')).key;
  });
  after(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: object, withKey = true) =>
    app.inject({ method, url, payload: body, headers: withKey ? { authorization: `Bearer ${key}` } : {} });

  it('a keyed route answers 401 without a key or with an unknown one; with the key it runs', async () => {
    assert.equal((await call('GET', '/model/v1/generation', undefined, false)).statusCode, 401);
    // the key with its last character changed (a key that already ends in x is changed to y)
    const forgedKey = key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x');
    const forged = await app.inject({ method: 'GET', url: '/model/v1/generation', headers: { authorization: `Bearer ${forgedKey}` } });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json().error.code, '014001001');
    assert.deepEqual((await call('GET', '/model/v1/generation')).json(), { data: [], has_more: false });
  });

  it('tasks: create, poll, list and cancel, stored in the repositories', async () => {
    const created = await call('POST', '/model/v1/generation', { model: MODEL, video_url: 'https://videos.example.com/a.mp4', external_task_id: 'e1' });
    assert.equal(created.statusCode, 200, created.body);
    const task = created.json();
    assert.equal(task.status, 'pending');
    assert.deepEqual(queued, [task.id]);
    assert.equal(repositories.tables.tasks.all()[0]!.id, task.id);
    assert.equal((await call('GET', `/model/v1/generation/${task.id}`)).json().id, task.id);
    assert.deepEqual((await call('GET', '/model/v1/generation?external_task_id=e1')).json().data.map((t: { id: string }) => t.id), [task.id]);
    const cancelled = await call('DELETE', `/model/v1/generation/${task.id}`);
    assert.equal(cancelled.json().error.code, '014001301');
    const missing = await call('GET', '/model/v1/generation/task_none');
    assert.deepEqual([missing.statusCode, missing.json().error.error_message], [404, 'task not found']);
    const bad = await call('POST', '/model/v1/generation', { model: MODEL });
    assert.deepEqual([bad.statusCode, bad.json().error.code], [400, '014001001']);
  });

  it('videos and sessions are read through the repositories, with their 404 codes', async () => {
    const video = await call('GET', '/v1/videos/vid_none');
    assert.deepEqual([video.statusCode, video.json().error.code], [404, '014001002']);
    await repositories.videos.insert({ id: 'vid_1', owner: 'studio', blob_key: 'uploads/vid_1.video', size_bytes: 10, duration_ms: 3000, width: 640, height: 360, fps: 25, format: 'mp4', created_at: NOW, expires_at: NOW + 60_000 });
    assert.deepEqual((await call('GET', '/v1/videos/vid_1')).json(), { video_id: 'vid_1', duration_ms: 3000, width: 640, height: 360, fps: 25, format: 'mp4', size_bytes: 10, expires_at: Math.floor((NOW + 60_000) / 1000) });
    assert.equal((await call('DELETE', '/v1/videos/vid_1')).statusCode, 204);
    assert.equal(await repositories.videos.find('vid_1'), undefined);

    const data = { video: { duration_ms: 3000 }, faces: [{ face_id: '0', file_id: 'file_aaaaaaaaaaaaaaaaaaaa', start_time: 0, end_time: 3000, box: { x: 1, y: 2, width: 3, height: 4 }, score: 0.9 }], rejected_faces: [] };
    await repositories.sessions.insert({ id: 'sess_1', owner: 'studio', task_id: 'task_1', data: JSON.stringify(data), created_at: NOW, expires_at: NOW + 60_000 });
    const session = (await call('GET', '/v1/sessions/sess_1')).json();
    assert.equal(session.task_id, 'task_1');
    assert.equal(session.face_data[0].face_image, signer.url('file_aaaaaaaaaaaaaaaaaaaa', NOW + 60_000));
    assert.equal(session.tracks_url, '/v1/sessions/sess_1/tracks?frames=all');
    const other = await call('GET', '/v1/sessions/sess_2');
    assert.deepEqual([other.statusCode, other.json().error.code], [404, '014001201']);

    // the two tracks routes share a handler: found by task or by session, each with its own miss
    const byTask = await call('GET', '/model/v1/generation/task_none/tracks');
    assert.deepEqual([byTask.statusCode, byTask.json().error], [404, { code: '014001001', error_message: 'tracks of a completed task not found' }]);
    const bySession = await call('GET', '/v1/sessions/sess_none/tracks');
    assert.deepEqual([bySession.statusCode, bySession.json().error], [404, { code: '014001201', error_message: 'session sess_none is unknown or expired' }]);
    const notStored = await call('GET', '/model/v1/generation/task_1/tracks');
    assert.deepEqual([notStored.statusCode, notStored.json().error.error_message], [404, 'the tracks of session sess_1 are not stored']);
  });

  it('face pictures: a signed URL finds the file row; metrics count tasks by status from the repository', async () => {
    const url = new URL(signer.url('file_bbbbbbbbbbbbbbbbbbbb', NOW + 60_000));
    const gone = await app.inject({ method: 'GET', url: url.pathname + url.search });
    assert.deepEqual([gone.statusCode, gone.json().error.code], [404, '014001201']);
    const forged = await app.inject({ method: 'GET', url: `${url.pathname}?exp=${url.searchParams.get('exp')}&sig=x` });
    assert.equal(forged.statusCode, 403);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /kirin_tasks\{status="failed"\} 1/);
  });
});
