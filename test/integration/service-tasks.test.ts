import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { makeVideo } from '../helpers/make-video.ts';
import {
  MODEL, assertError, makeFaceVideo, onService, serveFiles, settled, startTestService, waitFor,
  type ApiResponse, type TestService,
} from '../helpers/service.ts';

const VIDEO_META = { duration_ms: 3000, width: 1280, height: 720, fps: 30, format: 'mp4' };
const PENDING_KEYS = ['completed_at', 'created_at', 'external_task_id', 'id', 'metadata', 'model', 'progress', 'status'];
const COMPLETED_KEYS = [...PENDING_KEYS, 'output', 'usage'].sort();
const FAILED_KEYS = [...PENDING_KEYS, 'error'].sort();
const FILE_URL = /^https?:\/\/[^/]+\/files\/file_[a-z0-9]{20}\.jpg\?exp=(\d+)&sig=[A-Za-z0-9_-]+$/;

/** The task API end to end on a real server with one worker (CONTRACT.md §1, §3, §4). */
describe('service: tasks', () => {
  let t: TestService;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let face: string; // one face from 500 to 3000 ms, 1280×720, 30 fps
  let small: string; // 640×360
  let keyB: string;
  let videoId: string; // owner A's upload of `face`
  let taskById: any;
  let resultById: any;

  before(async () => {
    t = await startTestService();
    files = await serveFiles(t.tmp.dir);
    face = await makeFaceVideo(t.tmp, 'face', 'a');
    small = await makeVideo({ out: t.tmp.file('small.mp4'), width: 640, height: 360, fps: 10, seconds: 3 });
    await writeFile(t.tmp.file('notes.mp4'), 'not a video\n'.repeat(50));
    keyB = await t.newKey('b', 'b');
  });
  after(async () => {
    await files?.close();
    await t?.close();
  });

  const create = (body: Record<string, unknown>, key?: string) => t.api('POST', '/model/v1/generation', { body: { model: MODEL, ...body }, key });
  const missingUrl = (name: string) => `${files.url}/missing-${name}.mp4`;

  const checkPending = (r: ApiResponse, t0: number, external: string | null = null) => {
    assert.equal(r.status, 200, r.text);
    const task = r.json;
    assert.deepEqual(Object.keys(task).sort(), PENDING_KEYS);
    assert.match(task.id, /^task_/);
    assert.equal(task.model, MODEL);
    assert.equal(task.status, 'pending');
    assert.equal(task.progress, 0);
    assert.equal(task.completed_at, null);
    assert.equal(task.external_task_id, external);
    assert.deepEqual(task.metadata, { queue_ms: null, processing_ms: null });
    assert.ok(Number.isInteger(task.created_at) && task.created_at >= Math.floor(t0 / 1000) && task.created_at <= Math.ceil(Date.now() / 1000), `created_at ${task.created_at} is now in Unix seconds`);
  };

  /** Checks a completed task of `face` exactly as CONTRACT.md §1; returns the parsed result JSON. */
  const checkCompleted = (task: any, t0: number, external: string | null = null) => {
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    assert.deepEqual(Object.keys(task).sort(), COMPLETED_KEYS);
    assert.match(task.id, /^task_/);
    assert.equal(task.model, MODEL);
    assert.equal(task.progress, 1);
    assert.equal(task.external_task_id, external);
    const nowS = Math.ceil(Date.now() / 1000);
    assert.ok(Number.isInteger(task.created_at) && task.created_at >= Math.floor(t0 / 1000) && task.created_at <= nowS, `created_at ${task.created_at}`);
    assert.ok(Number.isInteger(task.completed_at) && task.completed_at >= task.created_at && task.completed_at <= nowS, `completed_at ${task.completed_at}`);
    assert.deepEqual(task.usage, { cost: '0.0100', discount: 0 });
    assert.equal(task.output.length, 1);
    assert.equal(task.output[0].content.length, 1);
    const c = task.output[0].content[0];
    assert.deepEqual(Object.keys(c).sort(), ['text', 'type', 'url']);
    assert.equal(c.type, 'text');
    assert.equal(c.url, '');
    assert.equal(typeof c.text, 'string');
    assert.deepEqual(task.metadata.video, VIDEO_META);
    assert.ok(Number.isInteger(task.metadata.queue_ms) && task.metadata.queue_ms >= 0, `queue_ms ${task.metadata.queue_ms}`);
    assert.ok(Number.isInteger(task.metadata.processing_ms) && task.metadata.processing_ms > 0, `processing_ms ${task.metadata.processing_ms}`);

    const result = JSON.parse(c.text);
    checkResult(result, task.completed_at);
    return result;
  };

  const checkResult = (result: any, completedAtS: number) => {
    assert.equal(result.code, 0);
    assert.equal(result.message, 'SUCCEED');
    assert.match(result.request_id, /^req_/);
    assert.match(result.data.session_id, /^sess_/);
    assert.equal(result.data.final_unit_deduction, '1');
    assert.equal(result.data.face_data.length, 1, JSON.stringify(result.data));
    const f = result.data.face_data[0];
    assert.deepEqual({ face_id: f.face_id, start_time: f.start_time, end_time: f.end_time }, { face_id: '0', start_time: 500, end_time: 3000 });
    const m = FILE_URL.exec(f.face_image);
    assert.ok(m, `face_image is a signed file URL: ${f.face_image}`);
    assert.ok(Math.abs(Number(m[1]) - (completedAtS + 86400)) <= 2, `the picture URL lives as long as the session (24 h): exp ${m[1]}`);
    assert.deepEqual(result.data.video, VIDEO_META);
    assert.deepEqual(result.data.rejected_faces, []);
  };

  const fetchJpeg = async (url: string) => {
    const res = await fetch(onService(url, t.svc.url)); // no Authorization header
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get('content-type'), body };
  };

  // ---- §1: the whole flow

  it('by video_id: create → 200 pending; poll → completed with the contract task object and result JSON', async () => {
    const up = await t.api('POST', '/v1/videos', { raw: await readFile(face), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    videoId = up.json.video_id;
    const t0 = Date.now();
    const r = await create({ video_id: videoId });
    checkPending(r, t0);
    // poll as a client does: status only moves forward, progress stays in 0..1 and never drops
    const seen: Array<[string, number]> = [];
    taskById = await waitFor(async () => {
      const g = await t.api('GET', `/model/v1/generation/${r.json.id}`);
      seen.push([g.json.status, g.json.progress]);
      return g.json.status === 'completed' || g.json.status === 'failed' ? g.json : undefined;
    }, 60_000, 'the task', 50);
    const order = ['pending', 'processing', 'completed'];
    for (let i = 1; i < seen.length; i++) {
      assert.ok(order.indexOf(seen[i][0]) >= order.indexOf(seen[i - 1][0]), `status went back: ${JSON.stringify(seen)}`);
      assert.ok(seen[i][1] >= seen[i - 1][1] && seen[i][1] >= 0 && seen[i][1] <= 1, `progress: ${JSON.stringify(seen)}`);
    }
    assert.ok(seen.some(([s]) => s === 'processing'), `seen processing: ${JSON.stringify(seen)}`);
    assert.equal(taskById.id, r.json.id);
    resultById = checkCompleted(taskById, t0);
  });

  it('face_image works without a key (a JPEG); a tampered signature or expiry → 403', async () => {
    const url = resultById.data.face_data[0].face_image as string;
    const ok = await fetchJpeg(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.type, 'image/jpeg');
    assert.equal(ok.body.readUInt16BE(0), 0xffd8, 'starts with the JPEG SOI marker');
    assert.ok(ok.body.length > 1000, `a real picture (${ok.body.length} bytes)`);

    const u = new URL(onService(url, t.svc.url));
    const sig = u.searchParams.get('sig')!;
    const tampered = new URL(u);
    tampered.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    assertError(await t.api('GET', tampered.pathname + tampered.search, { key: null }), 403, '014001001', 'tampered sig');
    const later = new URL(u);
    later.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 3600));
    assertError(await t.api('GET', later.pathname + later.search, { key: null }), 403, '014001001', 'extended exp');
    const other = new URL(u);
    other.pathname = '/files/file_00000000000000000000.jpg';
    assertError(await t.api('GET', other.pathname + other.search, { key: null }), 403, '014001001', 'sig of another file');
    const noSig = new URL(u);
    noSig.searchParams.delete('sig');
    assertError(await t.api('GET', noSig.pathname + noSig.search, { key: null }), 403, '014001001', 'no sig');
  });

  it('GET /v1/sessions/{id} → the faces with working face_image URLs; an unknown session → 404 014001201', async () => {
    const s = await t.api('GET', `/v1/sessions/${resultById.data.session_id}`);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.session_id, resultById.data.session_id);
    assert.equal(s.json.task_id, taskById.id);
    assert.deepEqual(s.json.video, VIDEO_META);
    assert.equal(s.json.expires_at - s.json.created_at, 86400, 'valid 24 h');
    assert.equal(s.json.face_data.length, 1);
    const f = s.json.face_data[0];
    assert.deepEqual([f.face_id, f.start_time, f.end_time], ['0', 500, 3000]);
    assert.match(f.face_image, FILE_URL);
    const pic = await fetchJpeg(f.face_image);
    assert.equal(pic.status, 200);
    assert.equal(pic.body.readUInt16BE(0), 0xffd8);
    assertError(await t.api('GET', '/v1/sessions/sess_unknown00000000000'), 404, '014001201');
  });

  it('extension GET /model/v1/generation/{id}/tracks → the face track of the completed task', async () => {
    const r = await t.api('GET', `/model/v1/generation/${taskById.id}/tracks`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.task_id, taskById.id);
    assert.equal(r.json.session_id, resultById.data.session_id);
    assert.equal(r.json.faces.length, 1);
  });

  let urlTask: any;
  it('by video_url (served locally): the same task object; the URL is fetched once', async () => {
    const t0 = Date.now();
    const r = await create({ video_url: files.fileUrl(face), external_task_id: 'by-url-1' });
    checkPending(r, t0, 'by-url-1');
    urlTask = await settled(t.api, r.json.id);
    const result = checkCompleted(urlTask, t0, 'by-url-1');
    assert.notEqual(result.data.session_id, resultById.data.session_id, 'a session per task');
    assert.notEqual(result.request_id, resultById.request_id);
    assert.equal(files.hits.get('/face.mp4'), 1, 'fetched once');
    const pic = await fetchJpeg(result.data.face_data[0].face_image);
    assert.equal(pic.status, 200);
    assert.equal(pic.body.readUInt16BE(0), 0xffd8);
  });

  // README: PORT=0 binds any free port; KIRIN_PUBLIC_URL's default must follow the port really bound.
  it('face_image URLs point at the port the service listens on (PORT=0) and work as given', async () => {
    const url = JSON.parse(urlTask.output[0].content[0].text).data.face_data[0].face_image as string;
    assert.equal(new URL(url).port, new URL(t.svc.url).port, `face_image ${url} vs service ${t.svc.url}`);
    const res = await fetch(url); // as given, no key
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).readUInt16BE(0), 0xffd8);
  });

  // ---- §3: failures through a task cost nothing

  const checkFailed = (task: any, code: string) => {
    assert.equal(task.status, 'failed');
    assert.deepEqual(Object.keys(task).sort(), FAILED_KEYS, 'no output, no usage');
    assert.equal(task.error.code, code, task.error.error_message);
    assert.equal(typeof task.error.error_message, 'string');
    assert.ok(!task.error.error_message.includes('\n    at '), 'no stack');
    assert.ok(Number.isInteger(task.completed_at) && task.completed_at >= task.created_at, `completed_at ${task.completed_at}`);
    assert.equal(task.output, undefined);
    assert.equal(task.usage, undefined);
  };

  it('a video_url that answers 404 → task failed 014001101, no usage or output', async () => {
    const r = await create({ video_url: missingUrl('a') });
    assert.equal(r.status, 200, r.text);
    const task = await settled(t.api, r.json.id);
    checkFailed(task, '014001101');
    assert.match(task.error.error_message, /404/);
  });

  it('a 640×360 video by URL → task failed 014001106; a text file by URL → 014001104', async () => {
    const a = await create({ video_url: files.fileUrl(small) });
    const b = await create({ video_url: `${files.url}/notes.mp4` });
    const ta = await settled(t.api, a.json.id);
    checkFailed(ta, '014001106');
    assert.match(ta.error.error_message, /360/);
    checkFailed(await settled(t.api, b.json.id), '014001104');
  });

  // ---- §4: external_task_id and the list

  it('external_task_id is idempotent: the second create returns the first task; the list finds it', async () => {
    const first = await create({ video_url: missingUrl('idem'), external_task_id: 'idem-1' });
    assert.equal(first.status, 200, first.text);
    const second = await create({ video_url: missingUrl('idem-other'), external_task_id: 'idem-1' });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.id, first.json.id, 'the same task');
    assert.equal(second.json.external_task_id, 'idem-1');
    const done = await settled(t.api, first.json.id);
    const third = await create({ video_url: missingUrl('idem'), external_task_id: 'idem-1' });
    assert.deepEqual(third.json, done, 'after it ended too, the same task as it is now');
    const list = await t.api('GET', '/model/v1/generation?external_task_id=idem-1');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json, { data: [done], has_more: false });
    assert.equal(files.hits.get('/missing-idem-other.mp4') ?? 0, 0, 'the second body was not used');
    // the same id under another owner is another task
    const b = await create({ video_url: missingUrl('idem'), external_task_id: 'idem-1' }, keyB);
    assert.equal(b.status, 200);
    assert.notEqual(b.json.id, first.json.id);
    await settled((m, p, o) => t.api(m, p, { ...o, key: keyB }), b.json.id);
  });

  it('concurrent creates with one external_task_id make one task', async () => {
    const rs = await Promise.all([1, 2, 3, 4, 5].map(() => create({ video_url: missingUrl('race'), external_task_id: 'race-1' })));
    for (const r of rs) assert.equal(r.status, 200, r.text);
    assert.equal(new Set(rs.map((r) => r.json.id)).size, 1, `one id: ${rs.map((r) => r.json.id).join(', ')}`);
    const list = await t.api('GET', '/model/v1/generation?external_task_id=race-1');
    assert.equal(list.json.data.length, 1);
    await settled(t.api, rs[0].json.id);
  });

  it('the list pages newest first with limit/after and has_more', async () => {
    const pager = await t.newKey('pager');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await create({ video_url: missingUrl(`page-${n}`) }, pager);
      assert.equal(r.status, 200, r.text);
      ids.push(r.json.id);
      await new Promise((res) => setTimeout(res, 15));
    }
    const list = (q: string) => t.api('GET', `/model/v1/generation${q}`, { key: pager });
    const all = await list('');
    assert.deepEqual(all.json.data.map((x: any) => x.id), [ids[2], ids[1], ids[0]]);
    assert.equal(all.json.has_more, false);
    const p1 = await list('?limit=2');
    assert.deepEqual(p1.json.data.map((x: any) => x.id), [ids[2], ids[1]]);
    assert.equal(p1.json.has_more, true);
    const p2 = await list(`?limit=2&after=${ids[1]}`);
    assert.deepEqual(p2.json.data.map((x: any) => x.id), [ids[0]]);
    assert.equal(p2.json.has_more, false);
    const exact = await list('?limit=3');
    assert.equal(exact.json.data.length, 3);
    assert.equal(exact.json.has_more, false);
    const none = await list(`?after=${ids[0]}`);
    assert.deepEqual(none.json, { data: [], has_more: false });
    for (const id of ids) await settled((m, p, o) => t.api(m, p, { ...o, key: pager }), id);
  });

  // ---- §1: another owner sees nothing

  it("owner B gets 404 for owner A's task, session, tracks and video, and cannot cancel or delete them", async () => {
    const asB = (method: string, path: string) => t.api(method, path, { key: keyB });
    assert.equal((await asB('GET', `/model/v1/generation/${taskById.id}`)).status, 404);
    assert.equal((await asB('DELETE', `/model/v1/generation/${taskById.id}`)).status, 404);
    assert.equal((await asB('GET', `/model/v1/generation/${taskById.id}/tracks`)).status, 404);
    assertError(await asB('GET', `/v1/sessions/${resultById.data.session_id}`), 404, '014001201', 'session');
    assertError(await asB('GET', `/v1/videos/${videoId}`), 404, '014001002', 'video');
    assertError(await asB('DELETE', `/v1/videos/${videoId}`), 404, '014001002', 'delete video');
    assertError(await t.api('POST', '/model/v1/generation', { key: keyB, body: { model: MODEL, video_id: videoId } }), 400, '014001002', 'create on A\'s video');
    const listB = await asB('GET', '/model/v1/generation?limit=100');
    assert.ok(!listB.json.data.some((x: any) => x.owner !== undefined || x.id === taskById.id || x.id === urlTask.id), 'B lists none of A\'s tasks');
    assert.equal((await asB('GET', '/model/v1/generation?external_task_id=by-url-1')).json.data.length, 0);
    // A still has everything
    const a = await t.api('GET', `/model/v1/generation/${taskById.id}`);
    assert.deepEqual(a.json, taskById);
    assert.equal((await t.api('GET', `/v1/videos/${videoId}`)).status, 200);
    assert.equal((await t.api('GET', `/v1/sessions/${resultById.data.session_id}`)).status, 200);
  });

  // ---- §1: cancel

  it('DELETE cancels a pending task and a processing one (failed 014001301); they never complete', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await create({ video_url: files.fileUrl(face), external_task_id: `cancel-${n}` });
      assert.equal(r.status, 200, r.text);
      ids.push(r.json.id);
    }
    const [c1, c2, c3] = ids;
    // one worker: c3 waits behind c1 and c2
    const before3 = await t.api('GET', `/model/v1/generation/${c3}`);
    assert.equal(before3.json.status, 'pending');
    const cancelled3 = await t.api('DELETE', `/model/v1/generation/${c3}`);
    assert.equal(cancelled3.status, 200, cancelled3.text);
    checkFailed(cancelled3.json, '014001301');

    await waitFor(async () => (await t.api('GET', `/model/v1/generation/${c1}`)).json.status === 'processing', 20_000, 'c1 to be processing', 50);
    const cancelled1 = await t.api('DELETE', `/model/v1/generation/${c1}`);
    assert.equal(cancelled1.status, 200, cancelled1.text);
    checkFailed(cancelled1.json, '014001301');

    // the worker whose job was cancelled is replaced; c2 still runs to the end
    const done2 = await settled(t.api, c2, 60_000);
    assert.equal(done2.status, 'completed', JSON.stringify(done2.error));
    assert.deepEqual(done2.usage, { cost: '0.0100', discount: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of [c1, c3]) {
      const g = await t.api('GET', `/model/v1/generation/${id}`);
      checkFailed(g.json, '014001301');
    }
    // cancelling again, or cancelling a finished task, changes nothing
    const again = await t.api('DELETE', `/model/v1/generation/${c3}`);
    assert.deepEqual(again.json, (await t.api('GET', `/model/v1/generation/${c3}`)).json);
    checkFailed(again.json, '014001301');
    const finished = await t.api('DELETE', `/model/v1/generation/${c2}`);
    assert.equal(finished.status, 200);
    assert.deepEqual(finished.json, done2);
  });

  // ---- §4: the synchronous route

  it('POST /v1/videos/identify-face {video_id} → 200 with the result JSON itself', async () => {
    const r = await t.api('POST', '/v1/videos/identify-face', { body: { video_id: videoId } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['code', 'data', 'message', 'request_id']);
    checkResult(r.json, Math.floor(Date.now() / 1000));
    const pic = await fetchJpeg(r.json.data.face_data[0].face_image);
    assert.equal(pic.status, 200);
    const s = await t.api('GET', `/v1/sessions/${r.json.data.session_id}`);
    assert.equal(s.status, 200, 'its session exists');
  });

  it('the synchronous route answers a rule failure with 400 and that rule\'s code (640×360 by URL → 014001106)', async () => {
    const r = await t.api('POST', '/v1/videos/identify-face', { body: { video_url: files.fileUrl(small) } });
    assertError(r, 400, '014001106');
    assert.match(r.json.error.error_message, /360/);
  });

  it('the synchronous route refuses bad requests at once: neither source, both, a bad URL → 400 014001001', async () => {
    assertError(await t.api('POST', '/v1/videos/identify-face', { body: {} }), 400, '014001001', 'neither');
    assertError(await t.api('POST', '/v1/videos/identify-face', { body: { video_id: videoId, video_url: files.fileUrl(face) } }), 400, '014001001', 'both');
    assertError(await t.api('POST', '/v1/videos/identify-face', { body: { video_url: 'ftp://example.com/a.mp4' } }), 400, '014001001', 'ftp');
    assertError(await t.api('POST', '/v1/videos/identify-face', { body: { video_id: 'vid_nope' } }), 400, '014001002', 'unknown video_id');
  });
});
