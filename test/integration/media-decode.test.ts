import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, KirinError } from '../../src/errors.ts';
import { decodeFrames, type DecodeOptions } from '../../src/media/decode.ts';
import { probeVideo } from '../../src/media/probe.ts';
import type { DecodedFrame } from '../../src/media/types.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { ffmpeg, makeTempDir, makeVfrVideo, makeVideo, setRotation, type TempDir } from '../helpers/make-video.ts';

async function decodeAll(path: string, opts: DecodeOptions): Promise<DecodedFrame[]> {
  const out: DecodedFrame[] = [];
  for await (const f of decodeFrames(path, opts)) out.push({ ...f, data: Uint8Array.from(f.data) });
  return out;
}

const cfrTimes = (n: number, fps: number, fromMs = 0) => Array.from({ length: n }, (_, i) => fromMs + Math.round((i * 1000) / fps));

async function waitForNoProcess(needle: string): Promise<void> {
  for (let i = 0; i < 50 && processesMentioning(needle).length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(processesMentioning(needle), [], `ffmpeg still running for ${needle}`);
}

describe('decodeFrames', () => {
  let tmp: TempDir;
  let cfr: string;

  before(async () => {
    tmp = await makeTempDir();
    cfr = await makeVideo({ out: tmp.file('cfr30.mp4'), width: 160, height: 120, fps: 30, seconds: 2 });
  });
  after(() => tmp.cleanup());

  it('frames handed back are filled again with the right pixels, and are unusable once handed back', async () => {
    const kept = await decodeAll(cfr, { width: 80, height: 60, pixelFormat: 'yuv420p' });
    const copies: Uint8Array[] = [];
    for await (const f of decodeFrames(cfr, { width: 80, height: 60, pixelFormat: 'yuv420p', threads: 1 })) {
      copies.push(Uint8Array.from(f.data));
      f.release?.();
      assert.equal(f.data.byteLength, 0, 'handed back: detached here');
      f.release?.();
    }
    assert.equal(copies.length, kept.length);
    copies.forEach((c, i) => assert.deepEqual(c, kept[i].data, `frame ${i}`));
  });

  it('constant 30 fps: every frame once, frame i at round(i·1000/30), at the requested size', async () => {
    const frames = await decodeAll(cfr, { width: 80, height: 60 });
    assert.equal(frames.length, 60);
    assert.deepEqual(frames.map((f) => f.index), Array.from({ length: 60 }, (_, i) => i));
    assert.deepEqual(frames.map((f) => f.timeMs), cfrTimes(60, 30));
    for (const f of frames) {
      assert.equal(f.width, 80);
      assert.equal(f.height, 60);
      assert.equal(f.data.length, 80 * 60 * 3);
    }
    // testsrc2 moves: consecutive frames differ.
    assert.notDeepEqual(frames[0].data, frames[1].data);
  });

  it('yuv420p: planar frames of 1.5 bytes a pixel whose luma matches the RGB frames', async () => {
    const rgb = await decodeAll(cfr, { width: 80, height: 60 });
    const yuv = await decodeAll(cfr, { width: 80, height: 60, pixelFormat: 'yuv420p' });
    assert.equal(yuv.length, rgb.length);
    assert.deepEqual(yuv.map((f) => f.timeMs), rgb.map((f) => f.timeMs));
    assert.equal(yuv[0].data.length, 80 * 60 * 1.5);
    const meanLumaRgb = (d: Uint8Array) => { let s = 0; for (let i = 0; i < d.length; i += 3) s += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]; return s / (d.length / 3); };
    const meanY = (d: Uint8Array) => { let s = 0; for (let i = 0; i < 80 * 60; i++) s += d[i]; return (s / (80 * 60) - 16) * (255 / 219); };
    assert.ok(Math.abs(meanLumaRgb(rgb[10].data) - meanY(yuv[10].data)) < 6);
    await assert.rejects(decodeAll(cfr, { width: 81, height: 60, pixelFormat: 'yuv420p' }), /even size/);
  });

  it('skipNonReference leaves out B-frames only: the frames it keeps are the full decode\'s, at the same times', async () => {
    // x264 'medium' makes B-frames (with b-pyramid, some of them references)
    const bframes = await makeVideo({ out: tmp.file('bframes.mp4'), width: 160, height: 120, fps: 30, seconds: 2, preset: 'medium' });
    const all = await decodeAll(bframes, { width: 80, height: 60, pixelFormat: 'yuv420p' });
    const kept = await decodeAll(bframes, { width: 80, height: 60, pixelFormat: 'yuv420p', skipNonReference: true });
    assert.equal(all.length, 60);
    assert.ok(kept.length < 45 && kept.length > 15, `${kept.length} of 60 frames decoded`);
    assert.equal(kept[0].timeMs, 0);
    assert.deepEqual(kept.map((f) => f.index), kept.map((_, i) => i), 'index counts emitted frames');
    for (const f of kept) {
      const same = all.find((g) => g.timeMs === f.timeMs);
      assert.ok(same, `a kept frame at ${f.timeMs} ms is a frame of the video`);
      assert.deepEqual(f.data, same.data, `frame at ${f.timeMs} ms decodes to the same pixels`);
    }
  });

  it('variable frame rate (1 s at 30 fps, then 1 s at 15 fps): real per-frame times', async () => {
    const f = await makeVfrVideo({ out: tmp.file('vfr.mp4'), width: 160, height: 120, parts: [{ fps: 30, seconds: 1 }, { fps: 15, seconds: 1 }] });
    const frames = await decodeAll(f, { width: 32, height: 24 });
    assert.deepEqual(frames.map((x) => x.timeMs), [...cfrTimes(30, 30), ...cfrTimes(15, 15, 1000)]);
  });

  it('non-zero start time (-output_ts_offset 5): the first frame is still 0 ms', async () => {
    const f = await makeVideo({ out: tmp.file('offset.mp4'), width: 160, height: 120, fps: 30, seconds: 2, startTimeSec: 5 });
    const frames = await decodeAll(f, { width: 32, height: 24 });
    assert.deepEqual(frames.map((x) => x.timeMs), cfrTimes(60, 30));
  });

  it('video starting 0.5 s after the audio: the first video frame is 0 ms', async () => {
    const f = await makeVideo({ out: tmp.file('delayed.mp4'), width: 160, height: 120, fps: 30, seconds: 1, videoDelaySec: 0.5 });
    const info = await probeVideo(f);
    assert.equal(info.startOffsetMs, 500);
    const frames = await decodeAll(f, { width: 32, height: 24, info });
    assert.deepEqual(frames.map((x) => x.timeMs), cfrTimes(30, 30));
  });

  it('edit list (stream-copied from 0.5 s): hidden lead-in frames are not emitted, first shown frame is 0 ms', async () => {
    // B-frames and a 2 s GOP, so the cut at 0.5 s falls mid-GOP and needs an edit list.
    const src = await makeVideo({ out: tmp.file('gop.mp4'), width: 160, height: 120, fps: 30, seconds: 2, preset: 'veryfast' });
    const cut = tmp.file('editlist.mp4');
    await ffmpeg(['-ss', '0.5', '-i', src, '-c', 'copy', cut]);
    const all = await decodeAll(src, { width: 32, height: 24 });
    const frames = await decodeAll(cut, { width: 32, height: 24 });
    assert.equal(frames.length, 45);
    assert.deepEqual(frames.map((x) => x.timeMs), cfrTimes(45, 30));
    assert.deepEqual(frames[0].data, all[15].data, 'first shown frame is source frame 15');
  });

  it('rotation 90: frames come out in display orientation at the requested size', async () => {
    // Coded 320×240, left half red, right half blue.
    const f = tmp.file('halves.mp4');
    await ffmpeg([
      '-f', 'lavfi', '-i', 'color=c=red:s=320x240:r=10:d=1,drawbox=x=160:y=0:w=160:h=240:color=blue:t=fill',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', f,
    ]);
    await setRotation(f, 90);
    const info = await probeVideo(f);
    assert.deepEqual([info.width, info.height], [240, 320]);
    const [first] = await decodeAll(f, { width: 24, height: 32, info });
    const px = (x: number, y: number) => Array.from(first.data.subarray((y * 24 + x) * 3, (y * 24 + x) * 3 + 3));
    const isRed = ([r, g, b]: number[]) => r > 180 && g < 80 && b < 80;
    const isBlue = ([r, g, b]: number[]) => b > 180 && r < 80 && g < 80;
    // Display-matrix rotation 90 is counter-clockwise: the coded left edge ends up at the bottom.
    assert.ok(isBlue(px(12, 3)), `top pixel ${px(12, 3)}`);
    assert.ok(isRed(px(12, 28)), `bottom pixel ${px(12, 28)}`);
  });

  it('abort kills ffmpeg and rejects with the abort reason', async () => {
    const f = await makeVideo({ out: tmp.file('abort-me.mp4'), width: 160, height: 120, fps: 30, seconds: 4 });
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of decodeFrames(f, { width: 32, height: 24, signal: ac.signal })) {
          if (++n === 2) ac.abort();
        }
      })(),
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
    assert.ok(n <= 3);
    await waitForNoProcess('abort-me.mp4');
  });

  it('breaking out of the loop kills ffmpeg', async () => {
    const f = await makeVideo({ out: tmp.file('break-me.mp4'), width: 160, height: 120, fps: 30, seconds: 4 });
    for await (const fr of decodeFrames(f, { width: 32, height: 24 })) {
      if (fr.index === 1) break;
    }
    await waitForNoProcess('break-me.mp4');
  });

  it('timeout kills ffmpeg and throws 014002095 (a hang is an internal failure, not the input\'s)', async () => {
    const info = await probeVideo(cfr);
    await assert.rejects(
      decodeAll(cfr, { width: 32, height: 24, info, timeoutMs: 1 }),
      (e: unknown) => e instanceof KirinError && e.code === ErrorCode.Internal && /within/.test(e.message),
    );
  });
});
