import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { TracksDocument } from '../../src/pipeline/tracks-document.ts';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, probeJson } from '../helpers/make-video.ts';
import { MODEL, assertError, serveFiles, settled, startTestService, type TestService } from '../helpers/service.ts';

/** GET with exact headers (no automatic decompression): status, headers and the body's bytes. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * The per-frame tracks over HTTP on a real service: a face, 1.5 s of blank, the same face again
 * (two face_ids, one person_id), analysed as a task; its tracks by task and by session, gzipped
 * when the client takes gzip, stored as a blob.
 */
describe('service: per-frame tracks', () => {
  let t: TestService;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let task: any;
  let result: any;
  let frameCount: number;
  const auth = () => ({ authorization: `Bearer ${t.key}` });

  before(async () => {
    t = await startTestService();
    files = await serveFiles(t.tmp.dir);
    const a = await portrait('a', t.tmp.file('a.png'));
    const { out } = await makeSegmentsVideo({
      out: t.tmp.file('back-again.mp4'),
      segments: [{ seconds: 0.5, blank: true }, { seconds: 2.5, image: a, fit: 0.8 }, { seconds: 1.5, blank: true }, { seconds: 2.5, image: a, fit: 0.8 }],
    });
    frameCount = Number((await probeJson(out, ['-count_frames', '-select_streams', 'v:0'])).streams[0].nb_read_frames);
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(out) } });
    assert.equal(r.status, 200, r.text);
    task = await settled(t.api, r.json.id, 120_000);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    result = JSON.parse(task.output[0].content[0].text);
  });
  after(async () => {
    await files?.close();
    await t?.close();
  });

  it('person_id in face_data and the session: two face_ids, one person', async () => {
    assert.deepEqual(result.data.face_data.map((f: any) => [f.face_id, f.person_id, f.start_time, f.end_time]), [['0', 'person_0', 500, 3000], ['1', 'person_0', 4500, 7000]]);
    const s = await t.api('GET', `/v1/sessions/${result.data.session_id}`);
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(s.json.face_data.map((f: any) => f.person_id), ['person_0', 'person_0']);
    // the session names where its per-frame tracks are
    assert.equal(s.json.tracks_url, `/v1/sessions/${result.data.session_id}/tracks?frames=all`);
    const tracks = await t.api('GET', s.json.tracks_url);
    assert.equal(tracks.status, 200, tracks.text);
    assert.equal(tracks.json.frames_ms.length, frameCount);
  });

  it('?frames=all: gzip on the wire when accepted, every frame of each face', async () => {
    const url = `${t.svc.url}/model/v1/generation/${task.id}/tracks?frames=all`;
    const r = await rawGet(url, { ...auth(), 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.match(String(r.headers.vary), /accept-encoding/i);
    const text = gunzipSync(r.body).toString('utf8');
    assert.ok(r.body.length < text.length / 3, `compressed ${r.body.length} of ${text.length} bytes`);
    const doc = JSON.parse(text) as TracksDocument & { task_id: string; session_id: string };
    assert.equal(doc.task_id, task.id);
    assert.equal(doc.session_id, result.data.session_id);
    assert.deepEqual(doc.video, { width: 1280, height: 720, fps: 30, frame_count: frameCount, duration_ms: 7000 });
    assert.equal(doc.frames_ms.length, frameCount);
    assert.deepEqual(doc.faces.map((f) => [f.face_id, f.person_id, f.start_time, f.end_time]), [['0', 'person_0', 500, 3000], ['1', 'person_0', 4500, 7000]]);
    for (const f of doc.faces) {
      doc.frames_ms.forEach((time, i) => {
        const inside = time >= f.start_time && time < f.end_time;
        assert.equal(f.boxes[i] !== null, inside, `face ${f.face_id} at ${time} ms`);
        if (inside) {
          assert.equal(f.keypoints[i]!.length, 5);
          const [x1, y1, x2, y2] = f.boxes[i]!;
          assert.ok(x1 >= 0 && y1 >= 0 && x2 <= 1280 && y2 <= 720 && x1 < x2 && y1 < y2);
        }
      });
    }
  });

  it('without gzip in Accept-Encoding: the same document, plain', async () => {
    const url = `${t.svc.url}/model/v1/generation/${task.id}/tracks?frames=all`;
    const zipped = await rawGet(url, { ...auth(), 'accept-encoding': 'gzip' });
    const plain = await rawGet(url, { ...auth(), 'accept-encoding': 'identity' });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(JSON.parse(plain.body.toString('utf8')), JSON.parse(gunzipSync(zipped.body).toString('utf8')));
    const refused = await rawGet(url, { ...auth(), 'accept-encoding': 'gzip;q=0, identity' });
    assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal');
  });

  it('by session: GET /v1/sessions/{id}/tracks?frames=all gives the same document', async () => {
    const byTask = await t.api('GET', `/model/v1/generation/${task.id}/tracks?frames=all`);
    const bySession = await t.api('GET', `/v1/sessions/${result.data.session_id}/tracks?frames=all`);
    assert.equal(bySession.status, 200, bySession.text);
    assert.deepEqual(bySession.json, byTask.json);
  });

  it('without frames: the analysed samples and states, as before', async () => {
    const r = await t.api('GET', `/model/v1/generation/${task.id}/tracks`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['audio', 'faces', 'rejected_faces', 'session_id', 'task_id', 'video']);
    assert.equal(r.json.faces.length, 2);
    assert.ok(r.json.faces[0].track.samples.length > 0 && r.json.faces[0].track.spans.length > 0);
    assert.equal('frames_ms' in r.json, false);
  });

  it('stored as blobs (the tracks, and the per-frame document once made), not in the database', async () => {
    const sessionId = result.data.session_id;
    const blobs = await readdir(join(t.dataDir, 'blobs', 'tracks'));
    assert.deepEqual(blobs.sort(), [`${sessionId}.frames.json.gz`, `${sessionId}.json.gz`]);
    const stored = JSON.parse(gunzipSync(await readFile(join(t.dataDir, 'blobs', 'tracks', `${sessionId}.json.gz`))).toString('utf8'));
    assert.equal(stored.frame_source.frames_ms.length, frameCount);
    const db = new Database(join(t.dataDir, 'kirin.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT data FROM sessions WHERE id = ?').get(sessionId) as { data: string };
      assert.equal('tracks' in JSON.parse(row.data), false, 'the session row holds no tracks');
      assert.ok(!row.data.includes('frames_ms') && !row.data.includes('samples'));
    } finally {
      db.close();
    }
  });

  it('errors: an unknown frames value 400, another owner 404, an unknown session 404 014001201', async () => {
    assertError(await t.api('GET', `/model/v1/generation/${task.id}/tracks?frames=some`), 400, '014001001', 'frames=some');
    const other = await t.newKey('other');
    assertError(await t.api('GET', `/model/v1/generation/${task.id}/tracks?frames=all`, { key: other }), 404, '014001001', 'another owner by task');
    assertError(await t.api('GET', `/v1/sessions/${result.data.session_id}/tracks?frames=all`, { key: other }), 404, '014001201', 'another owner by session');
    assertError(await t.api('GET', '/v1/sessions/sess_nope/tracks?frames=all'), 404, '014001201', 'unknown session');
    assert.equal((await t.api('GET', `/v1/sessions/${result.data.session_id}/tracks`, { key: null })).status, 401);
  });

  it('OpenAPI documents both routes, frames=all and the FrameTracks document', async () => {
    const spec = (await t.api('GET', '/openapi.json')).json;
    for (const path of ['/model/v1/generation/{task_id}/tracks', '/v1/sessions/{session_id}/tracks']) {
      const op = spec.paths[path]?.get;
      assert.ok(op, `${path} documented`);
      assert.ok(op.parameters.some((p: any) => p.name === 'frames' && p.in === 'query' && p.schema.enum.includes('all')), `${path}: frames=all`);
      assert.match(op.description, /gzip/);
    }
    const text = JSON.stringify(spec);
    assert.match(text, /frames_ms/);
    assert.match(text, /raw_boxes/);
    assert.match(text, /left eye, right eye, nose tip, left mouth corner, right mouth corner/);
  });
});
