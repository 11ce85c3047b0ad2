import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeVideo } from '../helpers/make-video.ts';
import { MODEL, assertError, makeFaceVideo, onService, serveFiles, settled, startTestService, type TestService } from '../helpers/service.ts';

const HOUR = 3_600_000;

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Sessions, face pictures, uploads and fetched videos live 24 h (CONTRACT.md §4), on a fake clock. */
describe('service: retention', () => {
  let t: TestService;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let task: any;
  let result: any;
  let videoId: string;
  let blobs: string;

  before(async () => {
    t = await startTestService({}, { clock });
    blobs = join(t.dataDir, 'blobs');
    files = await serveFiles(t.tmp.dir);
    const face = await makeFaceVideo(t.tmp, 'face');
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(face) } });
    assert.equal(r.status, 200, r.text);
    task = await settled(t.api, r.json.id);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    result = JSON.parse(task.output[0].content[0].text);
    const hd = await makeVideo({ out: t.tmp.file('hd.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
    const up = await t.api('POST', '/v1/videos', { raw: await readFile(hd), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    videoId = up.json.video_id;
  });
  after(async () => {
    await files?.close();
    await t?.close();
  });

  const picture = () => fetch(onService(result.data.face_data[0].face_image, t.svc.url));

  it('before expiry: the session, its picture, its tracks, the upload and the blob files are there', async () => {
    assert.equal((await t.api('GET', `/v1/sessions/${result.data.session_id}`)).status, 200);
    // the per-frame tracks are made on the first request and kept beside the session's tracks
    assert.equal((await t.api('GET', `/model/v1/generation/${task.id}/tracks?frames=all`)).status, 200);
    assert.equal((await picture()).status, 200);
    assert.equal((await t.api('GET', `/v1/videos/${videoId}`)).status, 200);
    const kept = await filesUnder(blobs);
    assert.ok(kept.includes(`faces/${result.data.session_id}/0.jpg`), `face picture kept: ${kept.join(', ')}`);
    assert.ok(kept.includes(`tracks/${result.data.session_id}.json.gz`), `tracks kept: ${kept.join(', ')}`);
    assert.ok(kept.includes(`tracks/${result.data.session_id}.frames.json.gz`), `per-frame tracks kept: ${kept.join(', ')}`);
    assert.ok(kept.includes(`fetched/${task.id}.video`), `fetched video kept: ${kept.join(', ')}`);
    assert.ok(kept.includes(`uploads/${videoId}.video`), `upload kept: ${kept.join(', ')}`);
  });

  it('23 h later a sweep deletes nothing', async () => {
    offset = 23 * HOUR;
    const before = await filesUnder(blobs);
    await t.svc.sweep();
    assert.deepEqual(await filesUnder(blobs), before);
    assert.equal((await t.api('GET', `/v1/sessions/${result.data.session_id}`)).status, 200);
    assert.equal((await picture()).status, 200);
    assert.equal((await t.api('GET', `/v1/videos/${videoId}`)).status, 200);
  });

  it('24 h + 1 min later: session 404 014001201, picture gone, upload 404, blob files deleted', async () => {
    offset = 24 * HOUR + 60_000;
    // expired is expired even before the sweep runs
    assertError(await t.api('GET', `/v1/sessions/${result.data.session_id}`), 404, '014001201', 'session before sweep');
    assertError(await t.api('GET', `/v1/videos/${videoId}`), 404, '014001002', 'upload before sweep');

    await t.svc.sweep();
    assertError(await t.api('GET', `/v1/sessions/${result.data.session_id}`), 404, '014001201', 'session');
    const pic = await picture();
    assert.ok(pic.status === 404 || pic.status === 403, `picture → ${pic.status}`);
    const body = JSON.parse(await pic.text());
    assert.ok(body.error?.code, 'an error body');
    assertError(await t.api('GET', `/v1/videos/${videoId}`), 404, '014001002', 'upload');
    assertError(await t.api('DELETE', `/v1/videos/${videoId}`), 404, '014001002', 'delete upload');
    assertError(await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_id: videoId } }), 400, '014001002', 'create on the expired upload');
    assert.equal((await t.api('GET', `/model/v1/generation/${task.id}/tracks`)).status, 404);
    assertError(await t.api('GET', `/v1/sessions/${result.data.session_id}/tracks?frames=all`), 404, '014001201', 'per-frame tracks');
    assert.deepEqual(await filesUnder(blobs), [], 'no blob file is left');
  });
});
