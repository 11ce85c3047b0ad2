import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { MODEL, assertError, makeFaceVideo, settled, startTestService, waitFor, type TestService } from '../helpers/service.ts';

/**
 * A service on production-like URL rules (KIRIN_ALLOW_PRIVATE_URLS unset) and a 1 ms
 * synchronous timeout (CONTRACT.md §3 014001102, §4 the synchronous route).
 */
describe('service: private URLs refused, synchronous timeout', () => {
  let t: TestService;

  before(async () => {
    t = await startTestService({ KIRIN_ALLOW_PRIVATE_URLS: undefined, KIRIN_SYNC_TIMEOUT_MS: '1' });
    assert.equal(t.config.allowPrivateUrls, false);
  });
  after(async () => {
    await t?.close();
  });

  const refused = [
    'http://169.254.169.254/x',
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1/clip.mp4',
    'http://10.0.0.5/clip.mp4',
    'http://192.168.1.1/clip.mp4',
    'http://[::1]/clip.mp4',
    'http://[::ffff:127.0.0.1]/clip.mp4',
    'http://2130706433/clip.mp4',
    'http://localhost/clip.mp4',
    'https://example.com:8443/clip.mp4',
  ];

  it('a private, loopback, link-local or metadata address (or another port) → 400 014001102 at create, no task', async () => {
    for (const video_url of refused) {
      const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url } });
      assertError(r, 400, '014001102', video_url);
    }
    const list = await t.api('GET', '/model/v1/generation');
    assert.deepEqual(list.json, { data: [], has_more: false });
  });

  it('the synchronous route refuses them the same way (400 014001102)', async () => {
    const r = await t.api('POST', '/v1/videos/identify-face', { body: { video_url: 'http://169.254.169.254/x' } });
    assertError(r, 400, '014001102');
  });

  it('the synchronous route answers 504 014002099 when the wait runs out; the task goes on and completes', async () => {
    const face = await makeFaceVideo(t.tmp, 'face');
    const up = await t.api('POST', '/v1/videos', { raw: await readFile(face), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    const started = Date.now();
    const r = await t.api('POST', '/v1/videos/identify-face', { body: { video_id: up.json.video_id } });
    assertError(r, 504, '014002099');
    assert.ok(Date.now() - started < 1500, `answered at once (${Date.now() - started} ms)`);
    const m = /task_[a-z0-9]+/.exec(r.json.error.error_message);
    assert.ok(m, `the message names the task to poll: ${r.json.error.error_message}`);
    const list = await t.api('GET', '/model/v1/generation');
    assert.deepEqual(list.json.data.map((x: any) => x.id), [m[0]]);
    const done = await settled(t.api, m[0]);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const result = JSON.parse(done.output[0].content[0].text);
    assert.deepEqual(result.data.face_data.map((f: any) => [f.face_id, f.start_time, f.end_time]), [['0', 500, 3000]]);
  });

  it('the service stays ready', async () => {
    await waitFor(async () => (await t.api('GET', '/readyz', { key: null })).status === 200, 5000, 'ready');
  });
});
