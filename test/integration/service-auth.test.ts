import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/storage/api-keys.ts';
import { makeVideo } from '../helpers/make-video.ts';
import { MODEL, assertError, assertNoStack, startTestService, type TestService } from '../helpers/service.ts';

/** Keys, open routes, create validation and error bodies (CONTRACT.md §1, §3, §4) on a real server. */
describe('service: auth, operations routes, create validation', () => {
  let t: TestService;
  let revokedKey: string;
  let ownerB: string;
  let videoOfB: string;

  before(async () => {
    t = await startTestService();
    const made = await createApiKey(t.svc.repositories.apiKeys, 'soon-revoked', 'default');
    const ok = await t.api('GET', '/model/v1/generation', { key: made.key });
    assert.equal(ok.status, 200, 'the key works before it is revoked');
    assert.ok(await revokeApiKey(t.svc.repositories.apiKeys, made.info.id));
    revokedKey = made.key;
    ownerB = await t.newKey('b', 'b');
    const hd = await makeVideo({ out: t.tmp.file('hd.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
    const up = await t.api('POST', '/v1/videos', { key: ownerB, raw: await readFile(hd), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    videoOfB = up.json.video_id;
  });
  after(async () => {
    await t?.close();
  });

  const secured: Array<[string, string, unknown?]> = [
    ['POST', '/model/v1/generation', { model: MODEL, video_url: 'https://example.com/a.mp4' }],
    ['GET', '/model/v1/generation'],
    ['GET', '/model/v1/generation?external_task_id=x'],
    ['GET', '/model/v1/generation/task_abc'],
    ['DELETE', '/model/v1/generation/task_abc'],
    ['GET', '/model/v1/generation/task_abc/tracks'],
    ['POST', '/v1/videos'],
    ['GET', '/v1/videos/vid_abc'],
    ['DELETE', '/v1/videos/vid_abc'],
    ['POST', '/v1/videos/identify-face', { video_url: 'https://example.com/a.mp4' }],
    ['GET', '/v1/sessions/sess_abc'],
    ['POST', '/v1/sessions/sess_abc/lip-sync-check', { face_choose: [{ face_id: '0', sound_start_time: 0, sound_end_time: 2000, sound_insert_time: 0 }], sound_file: 'https://example.com/a.wav' }],
  ];

  const badKeys: Array<[string, Record<string, string> | null | string]> = [
    ['no key', null],
    ['a malformed key', 'nope'],
    ['an unknown well-formed key', `kirin_${'a'.repeat(12)}.${'B'.repeat(32)}`],
    ['a revoked key', 'REVOKED'],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
  ];

  for (const [label, k] of badKeys) {
    it(`401 with an error body on every secured route: ${label}`, async () => {
      for (const [method, path, body] of secured) {
        const key = k === 'REVOKED' ? revokedKey : typeof k === 'string' ? k : null;
        const headers = k !== null && typeof k === 'object' ? k : undefined;
        const r = await t.api(method, path, { key, body, headers });
        assertError(r, 401, '014001001', `${label} ${method} ${path}`);
      }
    });
  }

  it('the key made on first start authenticates (also with a lower-case "bearer")', async () => {
    const r = await t.api('GET', '/model/v1/generation', { key: null, headers: { authorization: `bearer ${t.key}` } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { data: [], has_more: false });
  });

  it('/healthz and /readyz answer without a key', async () => {
    const h = await t.api('GET', '/healthz', { key: null });
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    const r = await t.api('GET', '/readyz', { key: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready' });
  });

  it('/metrics answers Prometheus text without a key, counting requests', async () => {
    await t.api('GET', '/healthz', { key: null });
    const m = await t.api('GET', '/metrics', { key: null });
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(m.text, /^# HELP kirin_http_requests_total /m);
    assert.match(m.text, /^# TYPE kirin_http_requests_total counter/m);
    assert.match(m.text, /^kirin_http_requests_total\{[^}]*route="\/healthz"[^}]*\} [1-9]/m);
    assert.match(m.text, /^kirin_http_requests_total\{[^}]*status="401"[^}]*\} [1-9]/m);
  });

  it('/openapi.json is OpenAPI 3.1 with the task, video, session and sync routes', async () => {
    const r = await t.api('GET', '/openapi.json', { key: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
    for (const p of ['/model/v1/generation', '/model/v1/generation/{task_id}', '/v1/videos', '/v1/videos/{video_id}', '/v1/videos/identify-face', '/v1/sessions/{session_id}']) {
      assert.ok(r.json.paths[p], `paths has ${p}: ${Object.keys(r.json.paths).join(', ')}`);
    }
    assert.ok(r.json.paths['/model/v1/generation'].post, 'POST /model/v1/generation is documented');
    assert.ok(r.json.components?.securitySchemes?.bearer, 'bearer auth is documented');
  });

  it('/docs serves the human docs page without a key', async () => {
    const r = await t.api('GET', '/docs', { key: null });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(r.text, /swagger/i);
  });

  // ---- create validation (§1, §3)

  const create = (body: unknown, key?: string) => t.api('POST', '/model/v1/generation', { body, key });

  const badCreates: Array<[string, unknown]> = [
    ['an unknown model', { model: 'kirin_other', video_url: 'https://example.com/a.mp4' }],
    ['no model', { video_url: 'https://example.com/a.mp4' }],
    ['both video_id and video_url', { model: MODEL, video_id: 'vid_x', video_url: 'https://example.com/a.mp4' }],
    ['neither video_id nor video_url', { model: MODEL }],
    ['empty video_url and no video_id', { model: MODEL, video_url: '' }],
    ['a malformed URL', { model: MODEL, video_url: 'not a url' }],
    ['a relative URL', { model: MODEL, video_url: '/clip.mp4' }],
    ['an ftp:// URL', { model: MODEL, video_url: 'ftp://example.com/a.mp4' }],
    ['a file:// URL', { model: MODEL, video_url: 'file:///etc/passwd' }],
    ['a URL with credentials', { model: MODEL, video_url: 'https://user:pw@example.com/a.mp4' }],
    ['video_url not a string', { model: MODEL, video_url: 42 }],
    ['a malformed callback_url', { model: MODEL, video_url: 'https://example.com/a.mp4', callback_url: 'nope' }],
    ['an ftp:// callback_url', { model: MODEL, video_url: 'https://example.com/a.mp4', callback_url: 'ftp://example.com/hook' }],
    ['an empty external_task_id', { model: MODEL, video_url: 'https://example.com/a.mp4', external_task_id: '' }],
    ['a body that is a JSON array', [1, 2]],
    ['bad JSON', '{"model":"kirin_identify_face",'],
  ];

  for (const [label, body] of badCreates) {
    it(`create with ${label} → 400 014001001`, async () => {
      assertError(await create(body), 400, '014001001', label);
    });
  }

  it('create without a body → 400 014001001', async () => {
    const r = await t.api('POST', '/model/v1/generation', { headers: { 'content-type': 'application/json' } });
    assertError(r, 400, '014001001');
  });

  it('an unknown video_id → 400 014001002', async () => {
    const r = await create({ model: MODEL, video_id: 'vid_doesnotexist0000000' });
    assertError(r, 400, '014001002');
    assert.match(r.json.error.error_message, /vid_doesnotexist/);
  });

  it("another owner's video_id → 400 014001002 (while its owner may use it)", async () => {
    assertError(await create({ model: MODEL, video_id: videoOfB }), 400, '014001002');
    assertError(await t.api('POST', '/v1/videos/identify-face', { body: { video_id: videoOfB } }), 400, '014001002', 'sync route');
    const own = await t.api('GET', `/v1/videos/${videoOfB}`, { key: ownerB });
    assert.equal(own.status, 200, own.text);
  });

  it('no refused create made a task', async () => {
    const r = await t.api('GET', '/model/v1/generation');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { data: [], has_more: false });
  });

  it('bad list queries → 400 014001001', async () => {
    assertError(await t.api('GET', '/model/v1/generation?limit=0'), 400, '014001001', 'limit=0');
    assertError(await t.api('GET', '/model/v1/generation?limit=101'), 400, '014001001', 'limit=101');
    assertError(await t.api('GET', '/model/v1/generation?limit=abc'), 400, '014001001', 'limit=abc');
    assertError(await t.api('GET', '/model/v1/generation?after=task_nope'), 400, '014001001', 'after unknown');
  });

  it('unknown task → 404; unknown session → 404 014001201; unknown route → 404', async () => {
    const tsk = await t.api('GET', '/model/v1/generation/task_nope');
    assert.equal(tsk.status, 404);
    assertNoStack(tsk.text);
    assert.ok(tsk.json.error.code, tsk.text);
    assertError(await t.api('DELETE', '/model/v1/generation/task_nope'), 404, tsk.json.error.code, 'cancel unknown');
    assertError(await t.api('GET', '/v1/sessions/sess_nope'), 404, '014001201');
    const route = await t.api('GET', '/no/such/route');
    assert.equal(route.status, 404);
    assertNoStack(route.text);
  });

  it('a bad signature on a picture URL → 403, no key needed', async () => {
    const r = await t.api('GET', '/files/file_aaaaaaaaaaaaaaaaaaaa.jpg?exp=9999999999&sig=abc', { key: null });
    assertError(r, 403, '014001001');
    assertError(await t.api('GET', '/files/file_aaaaaaaaaaaaaaaaaaaa.jpg', { key: null }), 403, '014001001', 'no signature');
  });

  // ---- §3: error bodies never carry a stack trace

  it('odd requests get error bodies without a stack trace', async () => {
    const cases: Array<[string, string, Parameters<typeof t.api>[2]]> = [
      ['POST', '/model/v1/generation', { raw: 'x'.repeat(2 << 20), headers: { 'content-type': 'application/json' } }],
      ['POST', '/model/v1/generation', { raw: 'model=kirin', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      ['POST', '/model/v1/generation', { raw: '\u0000\u0001', headers: { 'content-type': 'application/json' } }],
      ['POST', '/v1/videos', { raw: 'hello', headers: { 'content-type': 'text/plain' } }],
      ['POST', '/v1/videos', { raw: Buffer.from([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]), headers: { 'content-type': 'video/mp4' } }],
      ['POST', '/v1/videos/identify-face', { body: { video_url: 'gopher://x' } }],
      ['POST', '/v1/videos/identify-face', { body: '{' }],
      ['GET', '/files/..%2F..%2Fkirin.db?exp=1&sig=x', { key: null }],
      ['GET', `/model/v1/generation/${'x'.repeat(100)}`, {}],
      ['PUT', '/model/v1/generation', { body: {} }],
    ];
    for (const [method, path, opts] of cases) {
      const r = await t.api(method, path, opts);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path.slice(0, 60)} → ${r.status} ${r.text.slice(0, 300)}`);
      assert.ok(r.json?.error?.code && typeof r.json.error.error_message === 'string', `error body for ${method} ${path.slice(0, 60)}: ${r.text.slice(0, 300)}`);
      assertNoStack(r.text);
    }
  });

  // A malformed or cut-short multipart body (busboy: "Unexpected end of multipart data") carries
  // no statusCode; it is the client's bad request (400 014001001), not an internal error.
  it('a malformed multipart upload → 400 014001001, not 500', async () => {
    const bodies = [
      'not multipart at all',
      '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\nabc', // no closing boundary
    ];
    for (const raw of bodies) {
      const r = await t.api('POST', '/v1/videos', { raw, headers: { 'content-type': 'multipart/form-data; boundary=zzz' } });
      assertError(r, 400, '014001001', `multipart ${JSON.stringify(raw.slice(0, 20))}`);
    }
  });

  // Errors raised by Fastify's router before any route runs (a path parameter over 100
  // characters, a bad %-escape) must still use the contract's body { error: { code, error_message } }.
  it('router-level errors (over-long id, bad %-escape) also use the contract error body', async () => {
    for (const path of [`/model/v1/generation/${'x'.repeat(101)}`, '/model/v1/generation/%E0%A4%A', '/v1/sessions/%zz']) {
      const r = await t.api('GET', path);
      assert.ok(r.status >= 400 && r.status < 500, `${path.slice(0, 40)} → ${r.status}`);
      assert.ok(r.json?.error && typeof r.json.error === 'object', `contract error body for ${path.slice(0, 40)}…: ${r.text.slice(0, 200)}`);
      assert.equal(r.json.error.code, '014001001');
      assert.equal(typeof r.json.error.error_message, 'string');
    }
  });

  it('the service is still healthy', async () => {
    assert.equal((await t.api('GET', '/healthz', { key: null })).status, 200);
  });
});
