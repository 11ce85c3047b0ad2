import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MODEL, assertError, settled, startTestService, type ApiResponse, type TestService } from '../helpers/service.ts';

/**
 * Abuse limits (README, Security): request body size, per-owner request and create rates,
 * tasks in flight per owner, queue depth, and a fetched video's size and time limits.
 */

/** A server for video_url: `/silent` accepts and never answers (a task stays in flight), `/endless` streams forever, `/trickle` drips. */
async function startAwkwardServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/endless') {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const chunk = Buffer.alloc(1 << 20, 7);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    } else if (path === '/trickle') {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const t = setInterval(() => res.write(Buffer.alloc(16)), 50);
      res.on('close', () => clearInterval(t));
    }
    // '/silent' and anything else: no answer at all
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function assertLimited(r: ApiResponse, what: string): number {
  assertError(r, 429, '014001401', what);
  const retry = r.headers.get('retry-after');
  assert.match(retry ?? '', /^\d+$/, `${what}: Retry-After is whole seconds, got ${retry}`);
  const s = Number(retry);
  assert.ok(s >= 1 && s <= 60, `${what}: Retry-After ${s} within 1..60`);
  return s;
}

describe('security: request body, rate and concurrency limits', () => {
  let t: TestService;
  let awkward: Awaited<ReturnType<typeof startAwkwardServer>>;
  const create = (key: string, extra: Record<string, unknown> = {}) =>
    t.api('POST', '/model/v1/generation', { key, body: { model: MODEL, video_url: `${awkward.url}/silent`, ...extra } });

  before(async () => {
    awkward = await startAwkwardServer();
    t = await startTestService({
      KIRIN_BODY_LIMIT_BYTES: '4096',
      KIRIN_RATE_LIMIT_PER_MIN: '30',
      KIRIN_CREATE_LIMIT_PER_MIN: '8',
      KIRIN_MAX_ACTIVE_TASKS: '3',
      KIRIN_MAX_QUEUED_TASKS: '0',
    });
  });
  after(async () => {
    await t?.close();
    await awkward?.close();
  });

  it('a JSON body over KIRIN_BODY_LIMIT_BYTES → 413 with the contract error body, before any work', async () => {
    const key = await t.newKey('body', 'body');
    const big = JSON.stringify({ model: MODEL, video_url: 'https://example.com/a.mp4', external_task_id: 'x'.repeat(8000) });
    const r = await t.api('POST', '/model/v1/generation', { key, body: big });
    assertError(r, 413, '014001001', 'oversized JSON');
    assert.match(r.json.error.error_message, /too large/);
    const list = await t.api('GET', '/model/v1/generation', { key });
    assert.deepEqual(list.json.data, [], 'no task was made');
  });

  it('requests per owner: past KIRIN_RATE_LIMIT_PER_MIN → 429 014001401 with Retry-After; other owners and open routes unaffected', async () => {
    const key = await t.newKey('reader', 'reader');
    const sameOwner = await t.newKey('reader-2', 'reader');
    for (let i = 0; i < 30; i++) assert.equal((await t.api('GET', '/model/v1/generation', { key })).status, 200, `request ${i + 1}`);
    assertLimited(await t.api('GET', '/model/v1/generation', { key }), '31st request');
    assertLimited(await t.api('GET', '/model/v1/generation', { key: sameOwner }), 'another key of the same owner');
    assert.equal((await t.api('GET', '/model/v1/generation', { key: await t.newKey('other', 'other') })).status, 200, 'another owner');
    assert.equal((await t.api('GET', '/healthz', { key: null })).status, 200, '/healthz needs no key and is not limited');
    assertError(await t.api('GET', '/model/v1/generation', { key: null }), 401, '014001001', 'no key is 401, not 429');
  });

  it('creates per owner: past KIRIN_CREATE_LIMIT_PER_MIN → 429 while reads still work', async () => {
    const key = await t.newKey('uploader', 'uploader');
    // uploads count as creates: 8 refused-but-counted uploads use up the window
    for (let i = 0; i < 8; i++) {
      const r = await t.api('POST', '/v1/videos', { key, raw: 'not a video', headers: { 'content-type': 'video/mp4' } });
      assertError(r, 400, '014001104', `upload ${i + 1}`);
    }
    assertLimited(await t.api('POST', '/v1/videos', { key, raw: 'not a video', headers: { 'content-type': 'video/mp4' } }), '9th upload');
    assertLimited(await create(key), 'a task create in the same window');
    assertLimited(await t.api('POST', '/v1/videos/identify-face', { key, body: { video_url: `${awkward.url}/silent` } }), 'a synchronous call');
    assert.equal((await t.api('GET', '/model/v1/generation', { key })).status, 200, 'reads are not creates');
  });

  it('tasks in flight per owner: past KIRIN_MAX_ACTIVE_TASKS → 429; a replayed external_task_id and other owners still get 200; a cancel frees a slot', async () => {
    const key = await t.newKey('busy', 'busy');
    const first = await create(key, { external_task_id: 'busy-1' });
    assert.equal(first.status, 200, first.text);
    for (let i = 2; i <= 3; i++) assert.equal((await create(key)).status, 200, `task ${i}`);
    const refused = await create(key);
    assertLimited(refused, '4th task in flight');
    assert.match(refused.json.error.error_message, /3 tasks .* pending or processing, the limit is 3/);

    const replay = await create(key, { external_task_id: 'busy-1' });
    assert.equal(replay.status, 200, `a replay creates nothing, so it is let through: ${replay.text}`);
    assert.equal(replay.json.id, first.json.id);
    assert.equal((await create(await t.newKey('idle', 'idle'))).status, 200, 'another owner is not held up');

    const cancelled = await t.api('DELETE', `/model/v1/generation/${first.json.id}`, { key });
    assert.equal(cancelled.json.status, 'failed');
    assert.equal((await create(key)).status, 200, 'a slot was freed by the cancel');
    const all = await t.api('GET', '/model/v1/generation?limit=100', { key });
    assert.equal(all.json.data.length, 4, 'exactly the admitted tasks exist');
  });
});

describe('security: queue depth and a burst of creates', () => {
  let t: TestService;
  let awkward: Awaited<ReturnType<typeof startAwkwardServer>>;

  before(async () => {
    awkward = await startAwkwardServer();
    // defaults (60 creates a minute, 16 in flight), but a queue of 20
    t = await startTestService({ KIRIN_MAX_QUEUED_TASKS: '20' });
  });
  after(async () => {
    await t?.close();
    await awkward?.close();
  });

  it('a burst of 200 concurrent creates from one key gets only 200 or 429 answers; exactly KIRIN_MAX_ACTIVE_TASKS (16) are admitted', async () => {
    const body = { model: MODEL, video_url: `${awkward.url}/silent` };
    const answers = await Promise.all(Array.from({ length: 200 }, () => t.api('POST', '/model/v1/generation', { body })));
    const byStatus = new Map<number, number>();
    for (const r of answers) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    assert.deepEqual([...byStatus.keys()].sort(), [200, 429], `statuses: ${JSON.stringify([...byStatus])}`);
    assert.equal(byStatus.get(200), 16, 'exactly the limit got in');
    for (const r of answers.filter((a) => a.status === 429)) assertLimited(r, 'burst');
    const all = await t.api('GET', '/model/v1/generation?limit=100');
    assert.equal(all.json.data.length, 16);
  });

  it('past KIRIN_MAX_QUEUED_TASKS pending tasks in all, any owner gets 429 "the queue is full"', async () => {
    // 16 of the first owner are in flight (1 processing, 15 pending); 5 more owners' tasks fill the queue to 20
    for (let i = 0; i < 5; i++) {
      const r = await t.api('POST', '/model/v1/generation', { key: await t.newKey(`q${i}`), body: { model: MODEL, video_url: `${awkward.url}/silent` } });
      assert.equal(r.status, 200, `owner q${i}: ${r.text}`);
    }
    const r = await t.api('POST', '/model/v1/generation', { key: await t.newKey('late'), body: { model: MODEL, video_url: `${awkward.url}/silent` } });
    assertLimited(r, 'full queue');
    assert.match(r.json.error.error_message, /queue is full: 20 tasks are waiting, the limit is 20/);
  });
});

describe('security: a fetched video is cut at its size and time limits', () => {
  let t: TestService;
  let awkward: Awaited<ReturnType<typeof startAwkwardServer>>;
  const saved = process.env.KIRIN_DOWNLOAD_TIMEOUT_MS;

  before(async () => {
    awkward = await startAwkwardServer();
    t = await startTestService();
  });
  after(async () => {
    if (saved === undefined) delete process.env.KIRIN_DOWNLOAD_TIMEOUT_MS;
    else process.env.KIRIN_DOWNLOAD_TIMEOUT_MS = saved;
    await t?.close();
    await awkward?.close();
  });

  const scratch = async () => (await readdir(join(t.dataDir, 'tmp')).catch(() => [] as string[])).filter((f) => f.startsWith('task_'));

  it('an endless body → task failed 014001103 once 100 MB have arrived; nothing is kept', async () => {
    delete process.env.KIRIN_DOWNLOAD_TIMEOUT_MS;
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `${awkward.url}/endless` } });
    assert.equal(r.status, 200, r.text);
    const task = await settled(t.api, r.json.id, 30_000);
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, '014001103', JSON.stringify(task.error));
    assert.match(task.error.error_message, /100 MB.*stopped reading/);
    assert.deepEqual(await scratch(), [], 'no partial download left in the scratch folder');
    assert.deepEqual(await readdir(join(t.dataDir, 'blobs', 'fetched')).catch(() => []), [], 'nothing kept under blobs/fetched');
  });

  it('a body that trickles → task failed 014001101 at KIRIN_DOWNLOAD_TIMEOUT_MS', async () => {
    // download limits are read from the environment by the fetching code, as `npm start` has them
    process.env.KIRIN_DOWNLOAD_TIMEOUT_MS = '1500';
    const t0 = Date.now();
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `${awkward.url}/trickle` } });
    const task = await settled(t.api, r.json.id, 30_000);
    assert.equal(task.error?.code, '014001101', JSON.stringify(task.error));
    assert.match(task.error.error_message, /total timeout.*1500 ms/);
    assert.ok(Date.now() - t0 < 10_000, 'cut at the limit, not at the 120 s default');
    assert.deepEqual(await scratch(), []);
  });
});
