import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo } from '../helpers/make-video.ts';
import { MODEL, settled, startTestService, type TestService } from '../helpers/service.ts';
import { addTalkingMouth, mouthInSegments } from '../helpers/talking-face.ts';

/**
 * Who speaks (CONTRACT.md §2b) reaches every route that returns a result: the task's result JSON,
 * the session, the tracks and the synchronous route, the same values in each; OpenAPI declares
 * them. A face speaking in espeak-ng's voice (a video with a soundtrack) and the same video
 * without one.
 */
describe('service: speaking and audio on every route', () => {
  let t: TestService;
  const videoIds: Record<'talking' | 'silent', string> = { talking: '', silent: '' };

  before(async () => {
    t = await startTestService();
    const b = await portrait('b', t.tmp.file('b.png'));
    // one face from 500 to 3000 ms; in the talking copy it speaks from 800 ms
    const { out: silent } = await makeSegmentsVideo({ out: t.tmp.file('silent.mp4'), segments: [{ seconds: 0.5, blank: true }, { seconds: 2.5, image: b, fit: 0.8 }] });
    const { out: talking } = await addTalkingMouth({
      video: silent,
      out: t.tmp.file('talking.mp4'),
      mouth: mouthInSegments('b', { slot: 'centre', fit: 0.8 }),
      text: 'Hello, I am speaking.',
      fromMs: 800,
    });
    for (const [name, file] of [['talking', talking], ['silent', silent]] as const) {
      const up = await t.api('POST', '/v1/videos', { raw: await readFile(file), headers: { 'content-type': 'video/mp4' } });
      assert.equal(up.status, 201, up.text);
      videoIds[name] = up.json.video_id;
    }
  });
  after(() => t?.close());

  /** [{ start_time, end_time }] in integer ms, in order, not overlapping. */
  const checkSpans = (spans: unknown, what: string) => {
    assert.ok(Array.isArray(spans), `${what} is an array: ${JSON.stringify(spans)}`);
    let last = -Infinity;
    for (const s of spans as Record<string, unknown>[]) {
      assert.deepEqual(Object.keys(s).sort(), ['end_time', 'start_time'], `${what}: ${JSON.stringify(s)}`);
      const { start_time: a, end_time: b } = s as { start_time: number; end_time: number };
      assert.ok(Number.isInteger(a) && Number.isInteger(b) && a >= last && a < b, `${what}: ${JSON.stringify(spans)}`);
      last = b;
    }
  };

  /** data.audio and every face's speaking, in a result JSON or a session. */
  const checkWhoSpeaks = (d: any, soundtrack: boolean, what: string) => {
    assert.deepEqual(Object.keys(d.audio).sort(), ['present', 'speech'], `${what} audio: ${JSON.stringify(d.audio)}`);
    assert.equal(d.audio.present, soundtrack, `${what}: audio.present`);
    checkSpans(d.audio.speech, `${what} audio.speech`);
    assert.ok(d.face_data.length > 0, `${what}: a face`);
    for (const f of [...d.face_data, ...d.rejected_faces]) checkSpans(f.speaking, `${what} speaking`);
    if (!soundtrack) {
      assert.deepEqual(d.audio.speech, [], `${what}: no voice without a soundtrack`);
      for (const f of [...d.face_data, ...d.rejected_faces]) assert.deepEqual(f.speaking, [], `${what}: nobody speaks without a soundtrack`);
    }
  };

  const speakingOf = (faces: { speaking: unknown }[]) => faces.map((f) => f.speaking);

  for (const name of ['talking', 'silent'] as const) {
    const soundtrack = name === 'talking';
    it(`${name}: GET task (result text), GET session and tracks carry the same speaking and audio`, async () => {
      const created = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_id: videoIds[name] } });
      assert.equal(created.status, 200, created.text);
      const task = await settled(t.api, created.json.id, 180_000);
      assert.equal(task.status, 'completed', JSON.stringify(task.error));
      const result = JSON.parse(task.output[0].content[0].text);
      checkWhoSpeaks(result.data, soundtrack, 'result JSON');

      const session = await t.api('GET', `/v1/sessions/${result.data.session_id}`);
      assert.equal(session.status, 200, session.text);
      checkWhoSpeaks(session.json, soundtrack, 'session');
      assert.deepEqual(session.json.audio, result.data.audio);
      assert.deepEqual(speakingOf(session.json.face_data), speakingOf(result.data.face_data));
      assert.deepEqual(speakingOf(session.json.rejected_faces), speakingOf(result.data.rejected_faces));

      const tracks = await t.api('GET', `/model/v1/generation/${task.id}/tracks`);
      assert.equal(tracks.status, 200, tracks.text);
      assert.deepEqual(tracks.json.audio, result.data.audio);
      assert.deepEqual(speakingOf(tracks.json.faces), speakingOf(result.data.face_data));
      assert.deepEqual(speakingOf(tracks.json.rejected_faces), speakingOf(result.data.rejected_faces));
    });
  }

  it('POST /v1/videos/identify-face answers speaking and audio too', async () => {
    const r = await t.api('POST', '/v1/videos/identify-face', { body: { video_id: videoIds.talking }, timeoutMs: 180_000 });
    assert.equal(r.status, 200, r.text);
    checkWhoSpeaks(r.json.data, true, 'synchronous result');
  });

  it('OpenAPI declares speaking on faces and rejected faces, and audio, with descriptions', async () => {
    const spec = (await t.api('GET', '/openapi.json', { key: null })).json;
    const text = JSON.stringify(spec);
    const schemas = Object.values(spec.components?.schemas ?? {}) as any[];
    const result = schemas.find((s) => s.properties?.data?.properties?.face_data);
    const session = schemas.find((s) => s.properties?.session_id && s.properties?.face_data);
    assert.ok(result && session, `ResultJson and Session among ${Object.keys(spec.components?.schemas ?? {}).join(', ')}`);
    // face_data and rejected_faces items are named components (FaceData, RejectedFace): follow the $ref
    const deref = (x: any) => (x?.$ref ? spec.components.schemas[x.$ref.replace('#/components/schemas/', '')] : x);
    for (const [what, holder] of [['result data', result.properties.data], ['session', session]] as const) {
      const p = { ...holder.properties };
      for (const k of ['face_data', 'rejected_faces']) p[k] = { ...p[k], items: deref(p[k].items) };
      assert.equal(p.face_data.items.properties.speaking.type, 'array', `${what} face_data[].speaking`);
      assert.equal(p.rejected_faces.items.properties.speaking.type, 'array', `${what} rejected_faces[].speaking`);
      assert.deepEqual(Object.keys(p.face_data.items.properties.speaking.items.properties).sort(), ['end_time', 'start_time']);
      assert.equal(p.audio.properties.present.type, 'boolean', `${what} audio.present`);
      assert.equal(p.audio.properties.speech.type, 'array', `${what} audio.speech`);
      for (const d of [p.face_data.items.properties.speaking, p.audio, p.audio.properties.speech]) assert.ok(d.description?.length > 10, `${what}: described`);
    }
    assert.match(text, /faces\[\]\.speaking/, 'the tracks route documents speaking');
  });
});
