import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { decodeFrames } from '../../src/media/decode.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { runTool } from '../../src/media/run-tool.ts';
import { makeSegmentsVideo, makeTempDir, sampleImage, type TempDir } from '../helpers/make-video.ts';

/** Standard deviation of a frame's bytes: ~0 for a flat gray frame. */
function spread(d: Uint8Array): number {
  let s = 0;
  let s2 = 0;
  for (const v of d) {
    s += v;
    s2 += v * v;
  }
  const m = s / d.length;
  return Math.sqrt(s2 / d.length - m * m);
}

describe('makeSegmentsVideo (test helper)', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await makeTempDir();
  });
  after(() => tmp.cleanup());

  it('builds blank / one image / two images segments with boundaries on frames', async () => {
    const { out, segmentStartsMs, frames } = await makeSegmentsVideo({
      out: tmp.file('segments.mp4'),
      width: 640,
      height: 360,
      fps: 10,
      segments: [{ seconds: 0.5, blank: true }, { seconds: 0.5, image: sampleImage(1) }, { seconds: 0.5, images: [sampleImage(2), sampleImage(3)] }],
    });
    assert.deepEqual(segmentStartsMs, [0, 500, 1000]);
    assert.equal(frames, 15);
    const info = await probeVideo(out);
    assert.deepEqual([info.width, info.height, info.durationMs, info.frameCount], [640, 360, 1500, 15]);

    const decoded = [];
    for await (const f of decodeFrames(out, { width: 64, height: 36, info })) decoded.push({ ...f, data: Uint8Array.from(f.data) });
    assert.deepEqual(decoded.map((f) => f.timeMs), Array.from({ length: 15 }, (_, i) => i * 100));
    const s = decoded.map((f) => spread(f.data));
    for (let i = 0; i < 5; i++) assert.ok(s[i] < 3, `frame ${i} should be blank (spread ${s[i]})`);
    for (let i = 5; i < 15; i++) assert.ok(s[i] > 20, `frame ${i} should show a photo (spread ${s[i]})`);
    const diff = (a: Uint8Array, b: Uint8Array) => a.reduce((acc, v, i) => acc + Math.abs(v - b[i]), 0) / a.length;
    assert.ok(diff(decoded[5].data, decoded[9].data) < 4, 'a still segment repeats one picture');
    assert.ok(diff(decoded[9].data, decoded[10].data) > 20, 'the pair segment starts on frame 10');
  });
});

describe('runTool', () => {
  // field 19 of /proc/PID/stat is the nice value; the shell reads its own after the parent set it
  const niceOf = async (background: boolean) => {
    const r = await runTool('/bin/sh', ['-c', 'sleep 0.3; cut -d" " -f19 /proc/$$/stat'], { timeoutMs: 10_000, background });
    assert.equal(r.exitCode, 0, r.stderr);
    return Number(r.stdout.toString().trim());
  };

  for (const background of [false, true]) {
    const how = background ? 'in the background' : 'in the foreground';
    it(`${how}: exit code, stdout and stderr; killed at its time limit; a missing binary is ENOENT`, async () => {
      const r = await runTool('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 10_000, background });
      assert.deepEqual([r.exitCode, r.stdout.toString(), r.stderr, r.timedOut], [3, 'out\n', 'err\n', false]);
      const hung = await runTool('/bin/sleep', ['5'], { timeoutMs: 300, background });
      assert.deepEqual([hung.timedOut, hung.exitSignal], [true, 'SIGKILL']);
      await assert.rejects(runTool('/nonexistent/ffmpeg', [], { timeoutMs: 10_000, background }), { code: 'ENOENT' });
    });
  }

  it('runs a background tool at a lower CPU priority (nice 10 above this process), others at this one', async () => {
    const own = getPriority();
    assert.equal(await niceOf(false), own);
    assert.equal(await niceOf(true), Math.min(19, own + 10));
  });
});
