import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ffmpeg } from '../helpers/make-video.ts';
import { speak } from '../helpers/talking-face.ts';
import { MODEL, assertError, makeFaceVideo, serveFiles, settled, startTestService, type TestService } from '../helpers/service.ts';

const HOUR = 3_600_000;

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => execFile(bin, args, (err, stdout, stderr) => (err ? rej(new Error(`${bin}: ${stderr || err.message}`)) : res(stdout))));
}

/** A sine tone of exactly `seconds` made by sox. */
const tone = (out: string, seconds: number, rate = 16000, channels = 1) => run('sox', ['-n', '-r', String(rate), '-c', String(channels), '-b', '16', out, 'synth', String(seconds), 'sine', '440']).then(() => out);

/** sox's own reading of a sound file's length, in ms. */
const soxMs = async (file: string) => Math.round(Number((await run('sox', ['--i', '-D', file])).trim()) * 1000);

/**
 * POST /v1/sessions/{id}/lip-sync-check on a real server, against the session of a real
 * analysis (one face from 500 to 3000 ms in a 3 s video), with sound files served over HTTP.
 */
describe('service: lip-sync plan check', () => {
  let t: TestService;
  let strict: TestService; // private URLs not allowed
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let sessionId: string;
  let strictSessionId: string;
  let faceVideo: string;
  const sound: Record<string, string> = {};

  before(async () => {
    t = await startTestService({}, { clock });
    strict = await startTestService({ KIRIN_ALLOW_PRIVATE_URLS: undefined });
    files = await serveFiles(t.tmp.dir);
    faceVideo = await makeFaceVideo(t.tmp, 'face', 'a');

    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(faceVideo) } });
    assert.equal(r.status, 200, r.text);
    const task = await settled(t.api, r.json.id);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    sessionId = JSON.parse(task.output[0].content[0].text).data.session_id;

    // the strict service gets its video by upload: it may not fetch from 127.0.0.1
    const up = await strict.api('POST', '/v1/videos', { raw: await readFile(faceVideo), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    const r2 = await strict.api('POST', '/model/v1/generation', { body: { model: MODEL, video_id: up.json.video_id } });
    const task2 = await settled(strict.api, r2.json.id);
    assert.equal(task2.status, 'completed', JSON.stringify(task2.error));
    strictSessionId = JSON.parse(task2.output[0].content[0].text).data.session_id;

    const f = (name: string) => t.tmp.file(name);
    sound.speech = await speak('The plan check measures this sentence before anyone pays for lip sync.', f('speech.wav'));
    sound.tone = await tone(f('tone.wav'), 2.5);
    sound.longTone = await tone(f('long.wav'), 61);
    await ffmpeg(['-y', '-v', 'error', '-i', sound.tone, '-c:a', 'libmp3lame', '-q:a', '4', '-write_xing', '0', f('tone.mp3')]);
    sound.mp3 = f('tone.mp3');
    await ffmpeg(['-y', '-v', 'error', '-i', sound.tone, '-c:a', 'aac', '-b:a', '64k', f('tone.m4a')]);
    sound.m4a = f('tone.m4a');
    // too big: 30 s of 48 kHz 16-bit stereo is 5.76 MB, over the 5 MB (5 MiB) limit
    sound.big = await tone(f('big.wav'), 30, 48000, 2);
    // wrong formats, whatever the name says
    await ffmpeg(['-y', '-v', 'error', '-i', sound.tone, '-c:a', 'libvorbis', '-f', 'ogg', f('vorbis.mp3')]);
    sound.ogg = f('vorbis.mp3');
    await writeFile(f('notes.wav'), 'these are notes, not a sound\n'.repeat(20));
    sound.text = f('notes.wav');
    // a WAV header followed by garbage
    await writeFile(f('broken.wav'), Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEjunk', 'latin1'), Buffer.alloc(200, 7)]));
    sound.broken = f('broken.wav');
  });
  after(async () => {
    await files?.close();
    await t?.close();
    await strict?.close();
  });

  const check = (body: unknown, opts: { key?: string | null; session?: string; svc?: TestService } = {}) =>
    (opts.svc ?? t).api('POST', `/v1/sessions/${opts.session ?? sessionId}/lip-sync-check`, { body, key: opts.key });
  const plan = (over: Record<string, unknown> = {}) => ({ face_id: '0', sound_start_time: 0, sound_end_time: 2500, sound_insert_time: 500, ...over });
  const codes = (c: any) => c.problems.map((p: any) => p.code);

  it('the session it checks against: one face 500–3000 ms in a 3 s video', async () => {
    const s = await t.api('GET', `/v1/sessions/${sessionId}`);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.video.duration_ms, 3000);
    assert.deepEqual(s.json.face_data.map((f: any) => [f.face_id, f.start_time, f.end_time]), [['0', 500, 3000]]);
  });

  it('a plan inside every rule is accepted (audio given by its length)', async () => {
    const r = await check({ face_choose: [plan()], audio_duration_ms: 4000 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.code, 0);
    assert.equal(r.json.message, 'SUCCEED');
    assert.match(r.json.request_id, /^req_/);
    const { data } = r.json;
    assert.equal(data.session_id, sessionId);
    assert.equal(data.accepted, true);
    assert.deepEqual(data.video, { duration_ms: 3000 });
    assert.deepEqual(data.checks, [{
      index: 0, face_id: '0', accepted: true,
      audio: { source: 'audio_duration_ms', duration_ms: 4000 },
      cropped_ms: 2500, inserted: { start_time: 500, end_time: 3000 }, face: { start_time: 500, end_time: 3000 }, overlap_ms: 2500,
      problems: [], insert_time_range: { earliest: 0, latest: 500 }, nearest_insert_time: 500,
    }]);
  });

  it('each broken rule has its code, and the nearest valid insert time comes with it', async () => {
    const r = await check({
      audio_duration_ms: 4000,
      face_choose: [
        plan({ audio_duration_ms: 61_000 }), // audio longer than 60 s
        plan({ audio_duration_ms: 1999, sound_end_time: 1999 }), // audio shorter than 2 s (and so is the crop)
        plan({ sound_start_time: 1000, sound_end_time: 2500 }), // crop 1.5 s
        plan({ sound_start_time: 1600, sound_end_time: 4100 }), // ends after the 4 s audio
        plan({ sound_insert_time: 600 }), // 600–3100: past the video's end
        plan({ sound_end_time: 2000, sound_insert_time: 1001 }), // 1001–3001 outside; overlap 1999 ms
        plan({ face_id: '3' }), // no such face
        plan({ sound_insert_time: 0 }), // fine
      ],
    });
    assert.equal(r.status, 200, r.text);
    const { data } = r.json;
    assert.equal(data.accepted, false);
    assert.deepEqual(data.checks.map(codes), [
      ['014001501'],
      ['014001501', '014001502', '014001505'],
      ['014001502', '014001505'],
      ['014001503'],
      ['014001504'],
      ['014001504', '014001505'],
      ['014001506'],
      [],
    ]);
    assert.deepEqual(data.checks.map((c: any) => c.accepted), [false, false, false, false, false, false, false, true]);
    assert.deepEqual(data.checks.map((c: any) => c.nearest_insert_time), [500, null, null, 500, 500, 1000, null, 0]);
    assert.deepEqual(data.checks[5].problems.map((p: any) => p.rule), ['insert_outside_video', 'face_overlap_too_short']);
    assert.match(data.checks[5].problems[1].message, /overlaps face "0"'s interval 500–3000 ms by 1\.999 s, less than 2 s/);
    assert.match(data.checks[0].problems[0].message, /the audio is 61 s long, outside 2–60 s/);
    assert.match(data.checks[6].problems[0].message, /face_id "3" is not a face of this session \(its faces: "0"\)/);
    assert.equal(data.checks[6].face, null);
    assert.equal(data.checks[6].overlap_ms, null);
  });

  it('times given as strings (as some Kling examples send them) are read as numbers', async () => {
    const r = await check({ face_choose: [{ face_id: '0', sound_start_time: '0', sound_end_time: '2500', sound_insert_time: '500' }], audio_duration_ms: '4000' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.accepted, true);
  });

  it('sound_file: a WAV of espeak-ng speech is fetched and measured (format, codec, size, length as sox reads it)', async () => {
    const ms = await soxMs(sound.speech);
    assert.ok(ms > 2000 && ms < 60_000, `the speech is ${ms} ms`);
    const r = await check({ face_choose: [plan({ sound_start_time: ms - 2500, sound_end_time: ms })], sound_file: files.fileUrl(sound.speech) });
    assert.equal(r.status, 200, r.text);
    const c = r.json.data.checks[0];
    assert.deepEqual(c.audio, { source: 'sound_file', duration_ms: ms, format: 'wav', codec: 'pcm_s16le', size_bytes: (await stat(sound.speech)).size });
    assert.equal(c.accepted, true, JSON.stringify(c.problems));
    // one millisecond past its end is refused
    const late = await check({ face_choose: [plan({ sound_start_time: ms - 2499, sound_end_time: ms + 1 })], sound_file: files.fileUrl(sound.speech) });
    assert.deepEqual(codes(late.json.data.checks[0]), ['014001503']);
  });

  it('sound_file: MP3 (VBR without a length header) and M4A are measured; a 61 s WAV breaks the 2–60 s rule', async () => {
    const r = await check({
      face_choose: [
        plan({ sound_file: files.fileUrl(sound.mp3), sound_end_time: 2400 }),
        plan({ sound_file: files.fileUrl(sound.m4a), sound_end_time: 2400 }),
        plan({ sound_file: files.fileUrl(sound.longTone) }),
      ],
    });
    assert.equal(r.status, 200, r.text);
    const [mp3, m4a, long] = r.json.data.checks;
    assert.equal(mp3.audio.format, 'mp3');
    assert.equal(mp3.audio.codec, 'mp3');
    // 2.5 s of tone; MP3 and AAC add up to a frame or two of padding (not the bitrate guess: 2.76 s)
    assert.ok(Math.abs(mp3.audio.duration_ms - 2500) <= 100, `mp3 ${mp3.audio.duration_ms} ms`);
    assert.equal(m4a.audio.format, 'm4a');
    assert.equal(m4a.audio.codec, 'aac');
    assert.ok(Math.abs(m4a.audio.duration_ms - 2500) <= 100, `m4a ${m4a.audio.duration_ms} ms`);
    assert.deepEqual([mp3.accepted, m4a.accepted], [true, true], JSON.stringify([mp3.problems, m4a.problems]));
    assert.equal(long.audio.duration_ms, 61_000);
    assert.deepEqual(codes(long), ['014001501']);
    assert.equal(r.json.data.accepted, false);
  });

  it('sound_file over 5 MB is refused with 014001103 without reading it', async () => {
    const size = (await stat(sound.big)).size;
    assert.ok(size > 5 * 1024 * 1024, `${size} bytes`);
    const r = await check({ face_choose: [plan()], sound_file: files.fileUrl(sound.big) });
    assertError(r, 400, '014001103');
    assert.match(r.json.error.error_message, /^sound_file: file larger than 5 MB \(5242880 bytes\): Content-Length is \d+ bytes, not read/);
  });

  it('sound_file that is not MP3, WAV or M4A (judged from the bytes) is refused with 014001109; a broken WAV with 014001110', async () => {
    const ogg = await check({ face_choose: [plan()], sound_file: files.fileUrl(sound.ogg) });
    assertError(ogg, 400, '014001109');
    assert.match(ogg.json.error.error_message, /sound_file is Ogg, must be MP3, WAV or M4A/);
    const text = await check({ face_choose: [plan()], sound_file: files.fileUrl(sound.text) });
    assertError(text, 400, '014001109');
    assert.match(text.json.error.error_message, /sound_file is text/);
    const video = await check({ face_choose: [plan()], sound_file: files.fileUrl(faceVideo) });
    assertError(video, 400, '014001109');
    assert.match(video.json.error.error_message, /video stream/);
    const broken = await check({ face_choose: [plan()], sound_file: files.fileUrl(sound.broken) });
    assertError(broken, 400, '014001110');
    assert.match(broken.json.error.error_message, /^sound_file is unreadable/);
  });

  it('sound_file that cannot be fetched: 014001101; a malformed one: 014001001', async () => {
    const missing = await check({ face_choose: [plan()], sound_file: `${files.url}/nowhere.wav` });
    assertError(missing, 400, '014001101');
    assert.match(missing.json.error.error_message, /^sound_file: download failed: HTTP 404/);
    assertError(await check({ face_choose: [plan()], sound_file: 'ftp://example.com/a.wav' }), 400, '014001001');
    assertError(await check({ face_choose: [plan()], sound_file: 'not a url' }), 400, '014001001');
  });

  it('a private sound_file URL is refused with 014001102 when private URLs are not allowed, and never fetched', async () => {
    const before = files.hits.get('/tone.wav') ?? 0;
    const loopback = files.fileUrl(sound.tone);
    const strictCheck = (url: string) => check({ face_choose: [plan()], sound_file: url }, { svc: strict, session: strictSessionId });
    // the file server's port is not 80 or 443: refused for that first
    const port = await strictCheck(loopback);
    assertError(port, 400, '014001102');
    assert.match(port.json.error.error_message, /^sound_file: URL not allowed: port \d+ of 127\.0\.0\.1:\d+ is not an allowed port/);
    // with its port allowed (KIRIN_URL_PORTS), the address itself is refused
    const saved = process.env.KIRIN_URL_PORTS;
    process.env.KIRIN_URL_PORTS = `80,443,${new URL(files.url).port}`;
    try {
      for (const url of [loopback, loopback.replace('127.0.0.1', 'localhost'), loopback.replace('127.0.0.1', '[::ffff:127.0.0.1]')]) {
        const r = await strictCheck(url);
        assertError(r, 400, '014001102', url);
        assert.match(r.json.error.error_message, /^sound_file: URL not allowed: host .* resolves to a private\/loopback\/link-local\/metadata address/);
      }
    } finally {
      if (saved === undefined) delete process.env.KIRIN_URL_PORTS;
      else process.env.KIRIN_URL_PORTS = saved;
    }
    assert.equal(files.hits.get('/tone.wav') ?? 0, before, 'no request reached the file server');
    // the same URL is fetched where private URLs are allowed (KIRIN_ALLOW_PRIVATE_URLS=1)
    const allowed = await check({ face_choose: [plan({ sound_end_time: 2500 })], sound_file: loopback });
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json.data.checks[0].audio.duration_ms, 2500);
    assert.equal(files.hits.get('/tone.wav'), before + 1);
    // and a plan with the audio's length is checked on the strict service as anywhere
    const ok = await check({ face_choose: [plan()], audio_duration_ms: 2500 }, { svc: strict, session: strictSessionId });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.data.accepted, true);
  });

  it('malformed requests: 400 014001001', async () => {
    const bad = [
      {},
      { face_choose: [], audio_duration_ms: 4000 },
      { face_choose: [plan()] }, // no audio
      { face_choose: [plan()], audio_duration_ms: 4000, sound_file: files.fileUrl(sound.tone) }, // both
      { face_choose: [plan({ audio_duration_ms: 4000, sound_file: files.fileUrl(sound.tone) })] },
      { face_choose: [plan({ sound_start_time: -1 })], audio_duration_ms: 4000 },
      { face_choose: [plan({ sound_end_time: 'soon' })], audio_duration_ms: 4000 },
      { face_choose: [{ face_id: '0', sound_start_time: 0, sound_end_time: 2500 }], audio_duration_ms: 4000 },
      { face_choose: ['a', 'b', 'c', 'd'].map((x) => plan({ sound_file: `${files.url}/${x}.wav` })) }, // four different files
    ];
    for (const body of bad) assertError(await check(body), 400, '014001001', JSON.stringify(body));
    assertError(await t.api('POST', `/v1/sessions/${sessionId}/lip-sync-check`, { body: '{"face_choose": [' }), 400, '014001001');
  });

  it('needs the API key; another owner\'s or an unknown session is 404 014001201', async () => {
    assertError(await check({ face_choose: [plan()], audio_duration_ms: 4000 }, { key: null }), 401, '014001001');
    const other = await t.newKey('someone-else');
    assertError(await check({ face_choose: [plan()], audio_duration_ms: 4000 }, { key: other }), 404, '014001201');
    assertError(await check({ face_choose: [plan()], audio_duration_ms: 4000 }, { session: 'sess_nope' }), 404, '014001201');
  });

  it('is in the OpenAPI document with its body and answer', async () => {
    const r = await t.api('GET', '/openapi.json');
    const op = r.json.paths['/v1/sessions/{session_id}/lip-sync-check']?.post;
    assert.ok(op, Object.keys(r.json.paths).join(', '));
    const body = op.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['face_choose']);
    assert.deepEqual(Object.keys(body.properties).sort(), ['audio_duration_ms', 'face_choose', 'sound_file']);
    // the answer's schema, with any component it refers to
    let answer = JSON.stringify(op.responses['200']);
    for (const [, name] of answer.matchAll(/#\/components\/schemas\/([^"]+)/g)) answer += JSON.stringify(r.json.components.schemas[name!]);
    for (const word of ['nearest_insert_time', 'insert_time_range', 'face_overlap_too_short', '014001506']) assert.ok(answer.includes(word), word);
  });

  it('an expired session (after 24 h) is 404 014001201', async () => {
    offset = 25 * HOUR;
    try {
      assertError(await check({ face_choose: [plan()], audio_duration_ms: 4000 }), 404, '014001201');
    } finally {
      offset = 0;
    }
  });
});
