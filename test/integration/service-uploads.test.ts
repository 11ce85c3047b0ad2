import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createReadStream, openAsBlob } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeVideo, padTo, type TempDir } from '../helpers/make-video.ts';
import { assertError, startTestService, waitFor, type TestService } from '../helpers/service.ts';

/** POST /v1/videos (CONTRACT.md §4, §3) against a real server. */
describe('service: uploads', () => {
  let t: TestService;
  let tmp: TempDir;
  let hd: string;

  before(async () => {
    t = await startTestService();
    tmp = t.tmp;
    hd = await makeVideo({ out: tmp.file('hd.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
  });
  after(async () => {
    await t?.close();
  });

  const videoKeys = ['video_id', 'duration_ms', 'width', 'height', 'fps', 'format', 'size_bytes', 'expires_at'];

  const checkVideo = async (v: any, size: number, before: number) => {
    assert.deepEqual(Object.keys(v).sort(), [...videoKeys].sort());
    assert.match(v.video_id, /^vid_/);
    assert.deepEqual(
      { duration_ms: v.duration_ms, width: v.width, height: v.height, fps: v.fps, format: v.format, size_bytes: v.size_bytes },
      { duration_ms: 2500, width: 1280, height: 720, fps: 10, format: 'mp4', size_bytes: size },
    );
    assert.ok(Number.isInteger(v.expires_at), 'expires_at is Unix seconds');
    const day = 24 * 3600;
    assert.ok(Math.abs(v.expires_at - (Math.floor(before / 1000) + day)) <= 2, `expires_at ${v.expires_at} is 24 h from now`);
  };

  const multipart = async (file: string, name = 'clip.mp4', field = 'file', type = 'video/mp4') => {
    const form = new FormData();
    form.append(field, new Blob([await readFile(file)], { type }), name);
    return t.api('POST', '/v1/videos', { raw: form });
  };

  // The route never reads the refused part; the connection must still serve the next request (it
  // used to hang until the 72 s keep-alive timeout). First in this file, so fetch's pool to this
  // server holds only that one connection.
  it('a multipart upload without a "file" field → 400 014001001, and the next request still gets an answer', async () => {
    const form = new FormData();
    form.append('video', new Blob([await readFile(hd)], { type: 'video/mp4' }), 'clip.mp4');
    assertError(await t.api('POST', '/v1/videos', { raw: form }), 400, '014001001');
    const next = await fetch(`${t.svc.url}/v1/videos/vid_nope`, { headers: { authorization: `Bearer ${t.key}` }, signal: AbortSignal.timeout(5000) })
      .then((r) => r.status)
      .catch((e: Error) => `no answer within 5 s (${e.message})`);
    assert.equal(next, 404, 'the request after the refused upload is answered');
  });

  it('multipart field "file" → 201 with the measured video; GET returns the same; DELETE → 204, then 404', async () => {
    const size = (await stat(hd)).size;
    const now = Date.now();
    const r = await multipart(hd);
    assert.equal(r.status, 201, r.text);
    await checkVideo(r.json, size, now);

    const g = await t.api('GET', `/v1/videos/${r.json.video_id}`);
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.json, r.json);

    const d = await t.api('DELETE', `/v1/videos/${r.json.video_id}`);
    assert.equal(d.status, 204, d.text);
    assert.equal(d.text, '');
    assertError(await t.api('GET', `/v1/videos/${r.json.video_id}`), 404, '014001002', 'GET after DELETE');
    assertError(await t.api('DELETE', `/v1/videos/${r.json.video_id}`), 404, '014001002', 'DELETE twice');
    assert.ok(!(await exists(join(t.dataDir, 'blobs', 'uploads', `${r.json.video_id}.video`))), 'the blob is gone');
  });

  it('a raw video/mp4 body → 201, kept under blobs/uploads', async () => {
    const size = (await stat(hd)).size;
    const now = Date.now();
    const r = await t.api('POST', '/v1/videos', { raw: await readFile(hd), headers: { 'content-type': 'video/mp4' } });
    assert.equal(r.status, 201, r.text);
    await checkVideo(r.json, size, now);
    const g = await t.api('GET', `/v1/videos/${r.json.video_id}`);
    assert.deepEqual(g.json, r.json);
    const kept = await readFile(join(t.dataDir, 'blobs', 'uploads', `${r.json.video_id}.video`));
    assert.equal(kept.length, size);
  });

  it('multipart with another field before "file" (curl -F name=… -F file=@…) → 201', async () => {
    const form = new FormData();
    form.append('name', 'my clip');
    form.append('file', new Blob([await readFile(hd)], { type: 'video/mp4' }), 'clip.mp4');
    const r = await t.api('POST', '/v1/videos', { raw: form });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.width, 1280);
  });

  it('a MOV (raw video/quicktime) → 201 with format "mov"', async () => {
    const mov = await makeVideo({ out: tmp.file('hd.mov'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
    const r = await t.api('POST', '/v1/videos', { raw: await readFile(mov), headers: { 'content-type': 'video/quicktime' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.format, 'mov');
  });

  it('a text file → 400 014001104, whatever its name or content type', async () => {
    const txt = tmp.file('notes.mp4');
    await writeFile(txt, 'this is not a video\n'.repeat(100));
    assertError(await multipart(txt), 400, '014001104', 'multipart text');
    assertError(await t.api('POST', '/v1/videos', { raw: await readFile(txt), headers: { 'content-type': 'video/mp4' } }), 400, '014001104', 'raw text');
  });

  it('a 640×360 video → 400 014001106 naming the measured size', async () => {
    const small = await makeVideo({ out: tmp.file('360p.mp4'), width: 640, height: 360, fps: 10, seconds: 2.5 });
    const r = await multipart(small);
    assertError(r, 400, '014001106');
    assert.match(r.json.error.error_message, /360/);
  });

  it('a 1 s video → 400 014001105', async () => {
    const short = await makeVideo({ out: tmp.file('short.mp4'), width: 1280, height: 720, fps: 10, seconds: 1 });
    const r = await multipart(short);
    assertError(r, 400, '014001105');
    assert.match(r.json.error.error_message, /1(\.0)?\s*s/);
  });

  it('an empty raw body → 400, never 201', async () => {
    const r = await t.api('POST', '/v1/videos', { raw: new Uint8Array(0), headers: { 'content-type': 'video/mp4' } });
    assert.equal(r.status, 400, r.text);
    assert.ok(r.json?.error?.code?.startsWith('01400'), r.text);
  });

  const uploadsNow = async () => (await readdir(join(t.dataDir, 'blobs', 'uploads')).catch(() => [] as string[])).sort();
  const scratchNow = async () => (await readdir(join(t.dataDir, 'tmp')).catch(() => [] as string[])).sort();

  it('a raw body over 100 MB → 413 014001103; the server stops reading and keeps no file', async () => {
    const big = tmp.file('big.mp4');
    await copyFile(hd, big);
    await padTo(big, 300 * 1024 * 1024); // sparse: no disk space used
    const uploadsBefore = await uploadsNow();
    const r = await streamPost(`${t.svc.url}/v1/videos`, t.key, big, 'video/mp4');
    assert.equal(r.status, 413, r.text);
    const body = JSON.parse(r.text);
    assert.equal(body.error.code, '014001103');
    assert.match(body.error.error_message, /100 MB/);
    assert.ok(r.sent < 200 * 1024 * 1024, `the server stopped reading near the limit (the client could send ${r.sent} of ${(await stat(big)).size} bytes)`);
    assert.deepEqual(await uploadsNow(), uploadsBefore, 'no new file under blobs/uploads');
    await waitFor(async () => (await scratchNow()).every((f) => !f.endsWith('.upload')), 5000, 'the partial upload to be removed');
  });

  it('a multipart file over 100 MB → 413 014001103 and no file kept', async () => {
    const big = tmp.file('big2.mp4');
    await copyFile(hd, big);
    await padTo(big, 100 * 1024 * 1024 + 1024 * 1024);
    const uploadsBefore = await uploadsNow();
    const form = new FormData();
    form.append('file', await openAsBlob(big, { type: 'video/mp4' }), 'big.mp4');
    const r = await t.api('POST', '/v1/videos', { raw: form, timeoutMs: 20_000 });
    assertError(r, 413, '014001103');
    assert.deepEqual(await uploadsNow(), uploadsBefore, 'no new file under blobs/uploads');
    await waitFor(async () => (await scratchNow()).every((f) => !f.endsWith('.upload')), 5000, 'the partial upload to be removed');
  });

  it('the service still answers after the cut uploads', async () => {
    const r = await t.api('GET', '/v1/videos/vid_nope');
    assertError(r, 404, '014001002');
  });
});

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Streams a file as a raw POST body with node:http (so the server can answer and cut it early). */
function streamPost(url: string, key: string, file: string, contentType: string): Promise<{ status: number; text: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': contentType } });
    const src = createReadStream(file, { highWaterMark: 1 << 20 });
    src.on('data', (c) => (sent += c.length));
    req.on('response', (res) => {
      answered = true;
      src.destroy();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy(); // a client gives up on the rest of the body once refused
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), sent });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (!answered) reject(new Error(`no HTTP answer before the connection failed (${e.message}) after ${sent} bytes`));
    });
    src.pipe(req);
  });
}

