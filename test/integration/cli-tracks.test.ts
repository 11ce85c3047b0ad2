import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TracksDocument } from '../../src/pipeline/tracks-document.ts';
import { portrait } from '../helpers/face-photos.ts';
import { ffmpeg, makeSegmentsVideo, makeTempDir, probeJson, type TempDir } from '../helpers/make-video.ts';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kirin.js');

function kirin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

type Corners = [number, number, number, number];
const centreX = (b: Corners) => (b[0] + b[2]) / 2;

/**
 * `kirin identify FILE --tracks OUT.json` on a video made here: a face moving across the frame
 * for 3 s (200 px a second), then a hard cut to two people side by side for 2.5 s.
 */
describe('kirin identify --tracks', () => {
  let tmp: TempDir;
  let video: string;
  let doc: TracksDocument;
  let result: any;
  let frameCount: number;

  before(async () => {
    tmp = await makeTempDir('kirin-cli-tracks-');
    const [a, b, c] = await Promise.all((['a', 'b', 'c'] as const).map((p) => portrait(p, tmp.file(`${p}.png`))));
    const moving = tmp.file('moving.mp4');
    await ffmpeg([
      '-f', 'lavfi', '-i', 'color=c=gray:s=1280x720:r=30:d=3', '-loop', '1', '-i', b,
      '-filter_complex', '[1:v]scale=420:420[f];[0:v][f]overlay=x=20+200*t:y=150:shortest=1,format=yuv420p',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-r', '30', moving,
    ]);
    const { out: pair } = await makeSegmentsVideo({ out: tmp.file('pair.mp4'), segments: [{ seconds: 2.5, images: [a, c], fit: 0.8 }] });
    video = tmp.file('moving-then-pair.mp4');
    await ffmpeg(['-i', moving, '-i', pair, '-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-r', '30', video]);
    const probe = await probeJson(video, ['-count_frames', '-select_streams', 'v:0']);
    frameCount = Number(probe.streams[0].nb_read_frames);

    const r = await kirin('identify', video, '--tracks', tmp.file('tracks.json'), '--out', tmp.file('faces'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    result = JSON.parse(r.stdout);
    doc = JSON.parse(await readFile(tmp.file('tracks.json'), 'utf8'));
  });
  after(() => tmp.cleanup());

  it('has every frame of the video: frame_count and frames_ms as ffprobe -count_frames counts them', () => {
    assert.equal(frameCount, 165);
    assert.equal(doc.video.frame_count, frameCount);
    assert.equal(doc.frames_ms.length, frameCount);
    assert.deepEqual(doc.frames_ms.slice(0, 4), [0, 33, 67, 100]);
    assert.ok(doc.frames_ms.every((t, i) => i === 0 || t > doc.frames_ms[i - 1]));
    assert.deepEqual([doc.video.width, doc.video.height, doc.video.fps, doc.video.duration_ms], [1280, 720, 30, 5500]);
  });

  it('the same faces and person_ids as the result JSON; the two side by side are two persons', () => {
    const fromResult = result.data.face_data.map((f: any) => [f.face_id, f.person_id, f.start_time, f.end_time]);
    assert.deepEqual(doc.faces.map((f) => [f.face_id, f.person_id, f.start_time, f.end_time]), fromResult);
    assert.deepEqual(fromResult.map((f: unknown[]) => [f[0], f[2], f[3]]), [['0', 0, 3000], ['1', 3000, 5500], ['2', 3000, 5500]]);
    assert.notEqual(doc.faces[1].person_id, doc.faces[2].person_id);
    assert.deepEqual(doc.rejected_faces, []);
  });

  it('one entry per frame; a box, 5 keypoints and a lip contour on every frame of each interval, null elsewhere', () => {
    for (const f of doc.faces) {
      for (const key of ['boxes', 'raw_boxes', 'keypoints', 'mouth'] as const) assert.equal(f[key].length, frameCount, `${key} of face ${f.face_id}`);
      doc.frames_ms.forEach((t, i) => {
        const inside = t >= f.start_time && t < f.end_time;
        assert.equal(f.boxes[i] !== null, inside, `face ${f.face_id} box at ${t} ms`);
        if (!inside) return;
        assert.equal(f.keypoints[i]!.length, 5, `face ${f.face_id} keypoints at ${t} ms`);
        assert.equal(f.mouth[i]!.length, 40, `face ${f.face_id} mouth at ${t} ms`);
        const [x1, y1, x2, y2] = f.boxes[i]!;
        // the keypoints lie in the box: eyes above the mouth corners
        for (const [x, y] of f.keypoints[i]!) assert.ok(x >= x1 && x <= x2 && y >= y1 && y <= y2, `face ${f.face_id} keypoint (${x}, ${y}) in its box at ${t} ms`);
        assert.ok(f.keypoints[i]![0][1] < f.keypoints[i]![3][1] && f.keypoints[i]![0][0] < f.keypoints[i]![1][0]);
      });
    }
  });

  it('every box inside the frame; each face of the pair stays on its own half; nothing carried across the cut', () => {
    for (const f of doc.faces) {
      for (const b of [...f.boxes, ...f.raw_boxes]) if (b) assert.ok(b[0] >= 0 && b[1] >= 0 && b[2] <= 1280 && b[3] <= 720 && b[0] < b[2] && b[1] < b[3], JSON.stringify(b));
    }
    const [, left, right] = doc.faces;
    assert.ok(left.boxes.every((b) => !b || b[2] <= 640), 'the left face keeps left');
    assert.ok(right.boxes.every((b) => !b || b[0] >= 640), 'the right face keeps right');
    const cut = doc.frames_ms.indexOf(3000);
    assert.ok(cut > 0);
    assert.equal(doc.faces[0].boxes[cut - 1] !== null && doc.faces[0].boxes[cut] === null, true, 'the moving face ends at the cut');
  });

  it('the moving face is followed without lag: smoothed boxes on the measured ones on average, always moving right', () => {
    const f = doc.faces[0];
    const xs: [number, number, number][] = [];
    doc.frames_ms.forEach((t, i) => {
      if (f.boxes[i]) xs.push([t / 1000, centreX(f.boxes[i]!), centreX(f.raw_boxes[i]!)]);
    });
    assert.equal(xs.length, 90);
    // least-squares slope of the smoothed centres
    const n = xs.length, mt = xs.reduce((s, x) => s + x[0], 0) / n, mx = xs.reduce((s, x) => s + x[1], 0) / n;
    const slope = xs.reduce((s, x) => s + (x[0] - mt) * (x[1] - mx), 0) / xs.reduce((s, x) => s + (x[0] - mt) ** 2, 0);
    assert.ok(Math.abs(slope - 200) < 30, `moves ${slope.toFixed(1)} px/s`);
    // a filter running behind would sit ~200 px/s × its lag (20 px at 100 ms) behind the measurements
    const behind = xs.reduce((s, x) => s + (x[2] - x[1]), 0) / n;
    assert.ok(Math.abs(behind) < 2, `smoothed box ${behind.toFixed(2)} px behind the measured one on average`);
    for (let i = 1; i < n; i++) assert.ok(xs[i][1] >= xs[i - 1][1] - 1, `smoothed centre goes back at ${xs[i][0]} s: ${xs[i - 1][1]} → ${xs[i][1]}`);
  });

  it('a --tracks file whose folder cannot be written: exit 2, 014001001, before any analysis', async () => {
    const r = await kirin('identify', video, '--tracks', tmp.file('no/such/folder/tracks.json'), '--out', tmp.file('unused-faces'));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.error.code, '014001001');
    assert.match(body.error.error_message, /--tracks .*cannot be written/);
    await assert.rejects(stat(tmp.file('no/such/folder/tracks.json')));
    await assert.rejects(stat(tmp.file('unused-faces')), 'no face picture was cut');
  });
});
