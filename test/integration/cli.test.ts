import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, makeTempDir, makeVideo, padTo, truncateTo, type TempDir } from '../helpers/make-video.ts';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kirin.js');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function kirin(...args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('kirin CLI', () => {
  let tmp: TempDir;
  let hd720: string;

  before(async () => {
    tmp = await makeTempDir('kirin-cli-');
    hd720 = await makeVideo({ out: tmp.file('720p.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
  });
  after(() => tmp.cleanup());

  it('--help explains the command, exit 0', async () => {
    const r = await kirin('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /kirin identify FILE \[--out DIR\]/);
    assert.match(r.stdout, /Exit codes/);
  });

  it('identify prints the result JSON with file:// face pictures under --out', async () => {
    const face = await portrait('b', tmp.file('b.png'));
    const { out } = await makeSegmentsVideo({ out: tmp.file('face.mp4'), segments: [{ seconds: 0.5, blank: true }, { seconds: 2.5, image: face, fit: 0.8 }] });
    const r = await kirin('identify', out, '--out', tmp.file('pictures'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    const result = JSON.parse(r.stdout);
    assert.equal(result.code, 0);
    assert.equal(result.message, 'SUCCEED');
    assert.match(result.request_id, /^req_/);
    assert.match(result.data.session_id, /^sess_/);
    assert.equal(result.data.final_unit_deduction, '1');
    assert.equal(result.data.face_data.length, 1);
    const [f] = result.data.face_data;
    assert.deepEqual([f.face_id, f.start_time, f.end_time], ['0', 500, 3000]);
    assert.ok(f.face_image.startsWith(`file://${tmp.file('pictures')}/`), f.face_image);
    const jpeg = await readFile(fileURLToPath(f.face_image));
    assert.equal(jpeg.readUInt16BE(0), 0xffd8);
    assert.deepEqual(result.data.video, { duration_ms: 3000, width: 1280, height: 720, fps: 30, format: 'mp4' });
    // who speaks (added fields): a video without a soundtrack has no voice and nobody speaking
    assert.deepEqual(result.data.audio, { present: false, speech: [] });
    assert.deepEqual(f.speaking, []);
    assert.deepEqual(result.data.rejected_faces, []);
  });

  const rejects = async (file: string, code: string, mentions: RegExp) => {
    const r = await kirin('identify', file);
    assert.equal(r.code, 2, `exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
    const body = JSON.parse(r.stdout);
    assert.equal(body.error.code, code);
    assert.match(body.error.error_message, mentions);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
  };

  it('014001103: a file over 100 MB', async () => {
    const f = tmp.file('huge.mp4');
    await copyFile(hd720, f);
    await padTo(f, 100 * 1024 * 1024 + 1);
    await rejects(f, '014001103', /100 MB/);
  });

  it('014001104: a text file named .mp4', async () => {
    const f = tmp.file('notes.mp4');
    await writeFile(f, 'not a video at all\n'.repeat(20));
    await rejects(f, '014001104', /MP4 or MOV/);
  });

  it('014001104: a WebM', async () => {
    await rejects(await makeVideo({ out: tmp.file('clip.webm'), width: 1280, height: 720, seconds: 2.5, fps: 5 }), '014001104', /WebM/);
  });

  it('014001108: an audio-only MP4', async () => {
    await rejects(await makeVideo({ out: tmp.file('audio.mp4'), audioOnly: true, seconds: 3 }), '014001108', /no video stream/);
  });

  it('014001108: a file cut short (header at the end)', async () => {
    const f = await makeVideo({ out: tmp.file('cut.mp4'), width: 1280, height: 720, fps: 10, seconds: 3 });
    await truncateTo(f, 0.6);
    await rejects(f, '014001108', /unreadable/);
  });

  it('014001108: a file cut short (header first, picture data missing)', async () => {
    const f = await makeVideo({ out: tmp.file('cut-fast.mp4'), width: 1280, height: 720, fps: 10, seconds: 4, faststart: true });
    await truncateTo(f, 0.5);
    await rejects(f, '014001108', /4\.00 s/);
  });

  it('014001108: a missing file', async () => {
    await rejects(join(tmp.dir, 'nope.mp4'), '014001108', /no such file/);
  });

  it('014001105: a 1.5 s video', async () => {
    await rejects(await makeVideo({ out: tmp.file('short.mp4'), width: 1280, height: 720, fps: 10, seconds: 1.5 }), '014001105', /1\.5 s.*2–60 s/);
  });

  it('014001106: 640×360', async () => {
    await rejects(await makeVideo({ out: tmp.file('360p.mp4'), width: 640, height: 360, fps: 5, seconds: 2.5 }), '014001106', /360 px.*720 or 1080/);
  });

  it('014001107: 2400×1080', async () => {
    await rejects(await makeVideo({ out: tmp.file('wide.mp4'), width: 2400, height: 1080, fps: 5, seconds: 2.5 }), '014001107', /2400.*512–2160/);
  });

  it('a wrong command line: usage on stderr, exit 2', async () => {
    const r = await kirin('identify');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one FILE/);
  });
});
