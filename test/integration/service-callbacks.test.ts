import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MODEL, makeFaceVideo, serveFiles, settled, startReceiver, startTestService, waitFor, type ReceivedCallback, type TestService } from '../helpers/service.ts';

/** callback_url (CONTRACT.md §4): signed POSTs of the task object, retried, never in the task's way. */
describe('service: callbacks', () => {
  let t: TestService;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let faceUrl: string;

  before(async () => {
    t = await startTestService({ KIRIN_CALLBACK_FIRST_DELAY_MS: '200' });
    files = await serveFiles(t.tmp.dir);
    faceUrl = files.fileUrl(await makeFaceVideo(t.tmp, 'face'));
    // /flaky answers 500 twice, then 200; everything else 200
    receiver = await startReceiver((path, n) => (path === '/flaky' && n <= 2 ? 500 : 200));
  });
  after(async () => {
    await receiver?.close();
    await files?.close();
    await t?.close();
  });

  /** Verifies X-Kirin-Signature as the README tells clients to; returns its time. */
  const verify = (cb: ReceivedCallback): number => {
    const header = cb.headers['x-kirin-signature'];
    assert.equal(typeof header, 'string', 'X-Kirin-Signature is present');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header as string);
    assert.ok(m, `signature header format: ${header}`);
    const expected = createHmac('sha256', t.svc.callbackSecret).update(`${m[1]}.${cb.body}`).digest();
    assert.ok(timingSafeEqual(expected, Buffer.from(m[2], 'hex')), 'HMAC-SHA256(secret, t + "." + body) matches');
    const wrong = createHmac('sha256', 'not-the-secret').update(`${m[1]}.${cb.body}`).digest('hex');
    assert.notEqual(wrong, m[2]);
    assert.ok(Math.abs(Date.now() / 1000 - Number(m[1])) < 300, `t=${m[1]} is now`);
    return Number(m[1]);
  };

  it('a completed task is POSTed once to callback_url, signed, with the task object as the body', async () => {
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: faceUrl, callback_url: `${receiver.url}/ok?x=1` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.callback_url, undefined, 'the task object has no callback_url field');
    const task = await settled(t.api, r.json.id);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const [cb] = await waitFor(() => receiver.on('/ok?x=1').length > 0 && receiver.on('/ok?x=1'), 10_000, 'the callback');
    assert.match(String(cb.headers['content-type']), /^application\/json/);
    verify(cb);
    const body = JSON.parse(cb.body);
    assert.deepEqual(body, task, 'the body is the task object as GET shows it');
    assert.equal(body.status, 'completed');
    assert.deepEqual(body.usage, { cost: '0.0100', discount: 0 });
    await new Promise((res) => setTimeout(res, 1200));
    assert.equal(receiver.on('/ok?x=1').length, 1, 'delivered exactly once');
  });

  it('a failed task is POSTed too (status failed, its error code)', async () => {
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `${files.url}/missing.mp4`, callback_url: `${receiver.url}/failed` } });
    const task = await settled(t.api, r.json.id);
    assert.equal(task.status, 'failed');
    const [cb] = await waitFor(() => receiver.on('/failed').length > 0 && receiver.on('/failed'), 10_000, 'the callback');
    verify(cb);
    const body = JSON.parse(cb.body);
    assert.deepEqual(body, task);
    assert.equal(body.error.code, '014001101');
    assert.equal(body.usage, undefined);
  });

  it('a cancelled task is POSTed with 014001301', async () => {
    // queued behind a long-ish task so it is still pending when cancelled
    const busy = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: faceUrl } });
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: faceUrl, callback_url: `${receiver.url}/cancelled` } });
    const c = await t.api('DELETE', `/model/v1/generation/${r.json.id}`);
    assert.equal(c.json.status, 'failed');
    const [cb] = await waitFor(() => receiver.on('/cancelled').length > 0 && receiver.on('/cancelled'), 10_000, 'the callback');
    verify(cb);
    assert.equal(JSON.parse(cb.body).error.code, '014001301');
    await t.api('DELETE', `/model/v1/generation/${busy.json.id}`);
  });

  it('a failing receiver is retried with backoff until it answers 2xx; the task does not wait for it', async () => {
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: faceUrl, callback_url: `${receiver.url}/flaky` } });
    let completedSeenAt = 0;
    const task = await waitFor(async () => {
      const g = await t.api('GET', `/model/v1/generation/${r.json.id}`);
      if (g.json.status === 'completed' || g.json.status === 'failed') {
        completedSeenAt = Date.now();
        return g.json;
      }
    }, 60_000, 'the task', 50);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const attempts = await waitFor(() => receiver.on('/flaky').length >= 3 && receiver.on('/flaky'), 15_000, 'three attempts');
    assert.deepEqual(attempts.map((a) => a.status), [500, 500, 200]);
    assert.ok(completedSeenAt <= attempts[2].at, 'the task was completed before the third attempt');
    assert.ok(completedSeenAt - attempts[0].at < 1000, `the task was completed when the first attempt came (${completedSeenAt - attempts[0].at} ms)`);
    for (const a of attempts) {
      verify(a);
      assert.equal(a.body, attempts[0].body, 'the same body every time');
    }
    assert.deepEqual(JSON.parse(attempts[0].body), task);
    const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
    assert.ok(gaps.every((g) => g >= 150), `retries wait (gaps ${gaps.join(', ')} ms)`);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(receiver.on('/flaky').length, 3, 'no attempt after the 200');
  });
});
