import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ErrorCode, KirinClient, KirinError, KirinTaskFailedError, KirinTimeoutError, parseCallback, parseResult, verifyCallbackSignature, type Task } from '../../client/src/index.ts';
import type { ResultJson as ServiceResultJson } from '../../src/pipeline/result-json.ts';
import { signCallback } from '../../src/tasks/callbacks.ts';
import type * as Client from '../../client/src/index.ts';

const task = (over: Partial<Task>): Task => ({ id: 'task_1', model: 'kirin_identify_face', status: 'pending', progress: 0, created_at: 1, ...over });

/** A fetch that answers from a list of [status, body, headers] in order and records the requests. */
function scriptedFetch(answers: [number, unknown, Record<string, string>?][]) {
  const calls: { method: string; url: string; at: number; headers: Record<string, string>; body?: string }[] = [];
  const fetchImpl = (async (url: URL, init: RequestInit) => {
    calls.push({ method: init.method ?? 'GET', url: String(url), at: Date.now(), headers: init.headers as Record<string, string>, body: typeof init.body === 'string' ? init.body : undefined });
    const next = answers.shift();
    if (!next) throw new Error('no more scripted answers');
    const [status, body, headers] = next;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

// The client's types against the service's (checked by npm run typecheck): the service's result
// JSON is a client ResultJson, and the client names every field the service sends.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Keys<T> = keyof NonNullable<T>;
type ServiceData = ServiceResultJson['data'];
type ClientData = Client.ResultJson['data'];
export const resultTypesAgree: [
  (r: ServiceResultJson) => Client.ResultJson,
  Same<Keys<ServiceData>, Keys<ClientData>>,
  Same<Keys<ServiceData['face_data'][number]>, Keys<Client.FaceData>>,
  Same<Keys<ServiceData['rejected_faces'][number]>, Keys<Client.RejectedFace>>,
  Same<Keys<ServiceData['audio']>, Keys<Client.AudioInfo>>,
  Same<Keys<ServiceData['video']>, Keys<Client.VideoMeta>>,
] = [(r) => r, true, true, true, true, true];

describe('client: callback signatures', () => {
  const secret = 'cbsec_test';
  const body = JSON.stringify(task({ status: 'completed', progress: 1 }));
  const now = 1_800_000_000_000;

  it('accepts what the service signs (signCallback), refuses a changed body, another secret, an old time', () => {
    const header = signCallback(secret, body, now / 1000);
    assert.equal(verifyCallbackSignature({ secret, header, body, now }), true);
    assert.equal(verifyCallbackSignature({ secret, header, body: new TextEncoder().encode(body), now }), true, 'bytes as received');
    assert.equal(verifyCallbackSignature({ secret, header, body: body.replace('completed', 'failed'), now }), false);
    assert.equal(verifyCallbackSignature({ secret: 'cbsec_other', header, body, now }), false);
    assert.equal(verifyCallbackSignature({ secret, header, body, now: now + 301_000 }), false, 'older than 5 minutes');
    assert.equal(verifyCallbackSignature({ secret, header, body, now: now + 301_000, toleranceSeconds: 0 }), true, 'age check off');
  });

  it('refuses a missing or malformed header; takes any of several v1 values', () => {
    for (const header of [undefined, '', 'v1=abc', 't=abc,v1=00', `t=${now / 1000}`, `t=${now / 1000},v1=zz`]) {
      assert.equal(verifyCallbackSignature({ secret, header, body, now }), false, String(header));
    }
    const t = String(now / 1000);
    const good = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    assert.equal(verifyCallbackSignature({ secret, header: `t=${t},v1=${'0'.repeat(64)},v1=${good}`, body, now }), true);
  });

  it('parseCallback answers the task, or a KirinError 014001001 when the signature fails', () => {
    const header = signCallback(secret, body, now / 1000);
    assert.equal(parseCallback({ secret, header, body, now }).status, 'completed');
    assert.throws(() => parseCallback({ secret, header, body: body + ' ', now }), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.BadRequest);
  });
});

describe('client: parseResult', () => {
  const result = { code: 0, message: 'SUCCEED', request_id: 'req_1', data: { session_id: 'sess_1', final_unit_deduction: '1', face_data: [{ face_id: '0', face_image: 'u', start_time: 0, end_time: 2000 }] } };

  it('parses the text of a completed task', () => {
    const parsed = parseResult(task({ status: 'completed', progress: 1, output: [{ content: [{ type: 'text', text: JSON.stringify(result), url: '' }] }] }));
    assert.deepEqual(parsed, result);
  });

  it('a failed task throws its own code; an unsettled task or a bad text throws 014002096', () => {
    assert.throws(
      () => parseResult(task({ status: 'failed', error: { code: '014001105', error_message: 'video duration 1.0 s is outside 2–60 s' } })),
      (e: unknown) => e instanceof KirinTaskFailedError && e.code === '014001105' && e.taskId === 'task_1' && e.isInputError,
    );
    assert.throws(() => parseResult(task({ status: 'processing' })), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.ResultParsing);
    const withText = (text: string) => task({ status: 'completed', output: [{ content: [{ type: 'text', text, url: '' }] }] });
    assert.throws(() => parseResult(withText('{not json')), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.ResultParsing);
    assert.throws(() => parseResult(withText('{"code":0}')), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.ResultParsing);
  });
});

describe('client: requests and polling', () => {
  it('sends the key, the model and JSON; an error answer becomes a KirinError with its code, status and Retry-After', async () => {
    const { calls, fetchImpl } = scriptedFetch([
      [200, task({})],
      [429, { error: { code: '014001401', error_message: 'too many' } }, { 'retry-after': '7' }],
      [502, '<html>bad gateway</html>', { 'content-type': 'text/html' }],
    ]);
    const kirin = new KirinClient({ baseUrl: 'http://kirin.test/prefix/', apiKey: 'k1', fetch: fetchImpl });
    await kirin.createTask({ video_url: 'https://example.com/a.mp4', external_task_id: 'x1' });
    assert.equal(calls[0].url, 'http://kirin.test/prefix/model/v1/generation');
    assert.equal(calls[0].headers.authorization, 'Bearer k1');
    assert.deepEqual(JSON.parse(calls[0].body!), { model: 'kirin_identify_face', video_url: 'https://example.com/a.mp4', external_task_id: 'x1' });
    await assert.rejects(kirin.getTask('task_1'), (e: unknown) => e instanceof KirinError && e.code === '014001401' && e.status === 429 && e.retryAfterSeconds === 7);
    await assert.rejects(kirin.getTask('task_1'), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.DependencyHttpError && e.status === 502 && /bad gateway/.test(e.message));
  });

  it('waitForTask backs off, waits out a 429 by Retry-After, reports progress once per change, and answers the settled task', async () => {
    const { calls, fetchImpl } = scriptedFetch([
      [200, task({ status: 'pending' })],
      [200, task({ status: 'processing', progress: 0.5 })],
      [429, { error: { code: '014001401', error_message: 'slow down' } }, { 'retry-after': '1' }],
      [200, task({ status: 'processing', progress: 0.5 })],
      [200, task({ status: 'completed', progress: 1 })],
    ]);
    const kirin = new KirinClient({ baseUrl: 'http://kirin.test', apiKey: 'k', fetch: fetchImpl });
    const seen: number[] = [];
    const done = await kirin.waitForTask('task_1', { pollIntervalMs: 20, backoff: 2, maxPollIntervalMs: 50, onProgress: (p) => seen.push(p) });
    assert.equal(done.status, 'completed');
    assert.deepEqual(seen, [0, 0.5, 1]);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
    assert.ok(gaps[0] >= 15 && gaps[1] >= 35, `pauses grow: ${gaps}`);
    assert.ok(gaps[2] >= 950, `the 429's Retry-After (1 s) is waited out: ${gaps}`);
    assert.ok(gaps[3] <= 500, `back to polling: ${gaps}`);
  });

  it('waitForTask gives up at timeoutMs with KirinTimeoutError 014002099, and stops at once on abort', async () => {
    const pending = () => [200, task({ status: 'pending' })] as [number, unknown];
    const kirin = new KirinClient({ baseUrl: 'http://kirin.test', apiKey: 'k', fetch: scriptedFetch(Array.from({ length: 50 }, pending)).fetchImpl });
    await assert.rejects(kirin.waitForTask('task_1', { pollIntervalMs: 10, timeoutMs: 100 }), (e: unknown) => e instanceof KirinTimeoutError && e.code === '014002099' && e.taskId === 'task_1');
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(new Error('stop now')), 50);
    await assert.rejects(kirin.waitForTask('task_1', { pollIntervalMs: 10_000, signal: stop.signal }), /stop now/);
    assert.ok(Date.now() - started < 2000);
  });
});
