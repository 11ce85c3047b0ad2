import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { redactUrl } from '../../src/api/log-safety.ts';
import { loadConfig } from '../../src/config.ts';
import { startService, type RunningService } from '../../src/service/kirin-service.ts';
import { createApiKey } from '../../src/storage/api-keys.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, assertNoStack, embeddedEnv, makeApi, settled, startReceiver, type Api } from '../helpers/service.ts';

/**
 * The service log at info level (as `npm start` writes it) holds no API key, no Authorization
 * header, no picture-URL signature, no callback secret or token, and no stack trace — for every
 * kind of request the other tests make, including an internal error.
 */
describe('security: what reaches the log', () => {
  let tmp: TempDir;
  let svc: RunningService;
  let api: Api;
  let key = '';
  const lines: string[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const SIG = 'c2lnbmF0dXJlLW9mLWEtcGljdHVyZS11cmwtOTg3NjU0';
  const TOKEN = 'tok_0123456789abcdefSECRET';

  before(async () => {
    tmp = await makeTempDir('kirin-logs-');
    const config = loadConfig({
      ...embeddedEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      KIRIN_DATA_DIR: tmp.file('data'),
      KIRIN_ALLOW_PRIVATE_URLS: '1',
      KIRIN_WORKERS: '1',
      KIRIN_RATE_LIMIT_PER_MIN: '30',
    });
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    svc = await startService(config, { logger: { level: 'info', stream }, onFirstKey: (k) => (key = k) });
    api = makeApi(svc.url, key);
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await svc?.close();
    await tmp?.cleanup();
  });

  it('redactUrl masks credential-like query values and keeps the rest', () => {
    assert.equal(redactUrl('/files/file_a.jpg?exp=1700000000&sig=abc'), '/files/file_a.jpg?exp=1700000000&sig=[redacted]');
    assert.equal(redactUrl('/x?external_task_id=my-1&api_key=k&Token=t&limit=5'), '/x?external_task_id=my-1&api_key=[redacted]&Token=[redacted]&limit=5');
    assert.equal(redactUrl('/x?%73ig=abc'), '/x?%73ig=[redacted]');
    assert.equal(redactUrl('/plain/path'), '/plain/path');
  });

  it('after every kind of request, the log holds no key, header, signature, secret, token or stack', async () => {
    const secret = key.split('.')[1]!;
    // keys: good, malformed, unknown; a lower-case bearer
    await api('GET', '/model/v1/generation');
    await api('GET', '/model/v1/generation', { headers: { authorization: `bearer ${key}` }, key: null });
    await api('GET', '/model/v1/generation', { key: `kirin_${'a'.repeat(12)}.${secret}` });
    await api('GET', '/model/v1/generation', { key: 'garbage' });
    // a key in the query string, where it does not belong
    await api('GET', `/model/v1/generation?external_task_id=x&api_key=${encodeURIComponent(key)}`);
    // picture URLs with signatures (a made-up one: 403; the URL is logged all the same)
    await api('GET', `/files/file_aaaaaaaaaaaaaaaaaaaa.jpg?exp=9999999999&sig=${SIG}`, { key: null });
    // tasks whose URLs carry tokens, with a signed callback; one fails (404), so its callback is sent
    const videoUrl = `${receiver.url}/missing.mp4?token=${TOKEN}`;
    const callbackUrl = `${receiver.url}/hook?token=${TOKEN}`;
    const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: videoUrl, callback_url: callbackUrl, external_task_id: 'logs-1' } });
    assert.equal(r.status, 200, r.text);
    const task = await settled(api, r.json.id);
    assert.equal(task.status, 'failed');
    for (let i = 0; i < 100 && receiver.on(`/hook?token=${TOKEN}`).length === 0; i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(receiver.on(`/hook?token=${TOKEN}`).length > 0, 'the callback was delivered (signed with the secret)');
    await api('POST', '/v1/videos/identify-face', { body: { video_url: `http://user:${TOKEN}@example.com/v.mp4` } });
    // odd and hostile requests (as in service-auth.test.ts)
    await api('POST', '/model/v1/generation', { raw: 'x'.repeat(2 << 20), headers: { 'content-type': 'application/json' } });
    await api('POST', '/model/v1/generation', { raw: '{', headers: { 'content-type': 'application/json' } });
    await api('POST', '/v1/videos', { raw: '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc', headers: { 'content-type': 'multipart/form-data; boundary=zzz' } });
    await api('POST', '/v1/videos', { raw: 'not a video', headers: { 'content-type': 'video/mp4' } });
    await api('GET', '/files/..%2F..%2Fsecrets.json?exp=1&sig=x', { key: null });
    await api('GET', '/model/v1/generation/%E0%A4%A');
    await api('GET', `/model/v1/generation/${'x'.repeat(150)}`);
    await api('PUT', '/model/v1/generation', { body: {} });
    // over the rate limit: 429s
    for (let i = 0; i < 45; i++) await api('GET', '/v1/sessions/sess_nope');
    // an internal error (a session row whose data is not JSON): 500 to the client, one line in the log
    const now = Date.now();
    await svc.db.insertInto('sessions').values({ id: 'sess_broken', owner: 'broken-owner', task_id: 'task_x', data: '{not json', created_at: now, expires_at: now + 3_600_000 }).execute();
    const broken = await api('GET', '/v1/sessions/sess_broken', { key: (await createApiKey(svc.repositories.apiKeys, 'broken-owner')).key });
    assert.equal(broken.status, 500, broken.text);
    assert.deepEqual(broken.json, { error: { code: '014002095', error_message: 'internal error' } });
    assertNoStack(broken.text);

    const log = lines.join('\n');
    assert.ok(lines.some((l) => l.includes('"request completed"') && l.includes('"url":"/model/v1/generation"')), 'request lines are logged at info level');
    assert.ok(!lines.some((l) => l.includes('"incoming request"')), 'one line per request, when it completes');
    assert.ok(lines.some((l) => l.includes('sig=[redacted]')), 'picture requests are logged, their signature masked');
    assert.ok(lines.some((l) => l.includes('"unhandled error"') && l.includes('SyntaxError')), 'the internal error is logged, briefly');
    assert.ok(lines.some((l) => l.includes('"statusCode":429')), 'the 429s were logged');
    for (const [what, needle] of [
      ['the API key', key],
      ['the key secret', secret],
      ['a Bearer header', 'earer '],
      ['the authorization header', 'authorization'],
      ['a picture signature', SIG],
      ['the callback secret', svc.callbackSecret],
      ['a token from a client URL', TOKEN],
    ] as const) {
      assert.ok(!log.includes(needle), `${what} is in the log: ${lines.find((l) => l.includes(needle))}`);
    }
    for (const l of lines) {
      assert.ok(!/\s+at\s+\S+\s+\(?(file:|node:|\/)/.test(l), `a stack trace in the log: ${l.slice(0, 400)}`);
      assert.ok(!l.includes('"stack"'), `a stack field in the log: ${l.slice(0, 400)}`);
    }
  });
});
