import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { decodeFrames } from '../../src/media/decode.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { DEFAULT_LIMITS, validateVideoFile } from '../../src/media/validate.ts';
import { makeTempDir, makeVideo, padTo, truncateTo, type TempDir } from '../helpers/make-video.ts';
import { hasCode } from '../helpers/assert-error.ts';


describe('validateVideoFile: one test per input rule', () => {
  let tmp: TempDir;
  let hd720: string;

  before(async () => {
    tmp = await makeTempDir();
    hd720 = await makeVideo({ out: tmp.file('720p.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
  });
  after(() => tmp.cleanup());

  it('accepts a valid 720p MP4', async () => {
    const v = await validateVideoFile(hd720);
    assert.deepEqual([v.format, v.width, v.height, v.durationMs, v.fps, v.codec, v.rotation], ['mp4', 1280, 720, 2500, 10, 'h264', 0]);
  });

  it('accepts a valid 1080p MP4', async () => {
    const f = await makeVideo({ out: tmp.file('1080p.mp4'), width: 1920, height: 1080, fps: 10, seconds: 2.5 });
    const v = await validateVideoFile(f);
    assert.deepEqual([v.width, v.height], [1920, 1080]);
  });

  it("accepts a QuickTime .mov and reports format 'mov'", async () => {
    const f = await makeVideo({ out: tmp.file('clip.mov'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
    const v = await validateVideoFile(f);
    assert.equal(v.format, 'mov');
  });

  it('a rotated file (coded 1280×720, rotation 90) passes with display 720×1280', async () => {
    const f = await makeVideo({ out: tmp.file('rot.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5, rotate: 90 });
    const v = await validateVideoFile(f);
    assert.deepEqual([v.width, v.height, v.rotation, v.codedWidth, v.codedHeight], [720, 1280, 90, 1280, 720]);
  });

  it('014001103: larger than 100 MB (checked before the content)', async () => {
    const f = tmp.file('huge.mp4');
    await copyFile(hd720, f);
    await padTo(f, DEFAULT_LIMITS.maxBytes + 1);
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.FileTooLarge, ['100 MB limit', String(DEFAULT_LIMITS.maxBytes + 1)]));
  });

  it('014001104: a text file named .mp4', async () => {
    const f = tmp.file('notes.mp4');
    await writeFile(f, 'this is not a video\n'.repeat(10));
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.NotMp4OrMov, ['text', 'MP4 or MOV']));
  });

  it('014001104: a WebM file, even named .mp4', async () => {
    const webm = await makeVideo({ out: tmp.file('clip.webm'), width: 160, height: 120, seconds: 1 });
    const f = tmp.file('webm-named.mp4');
    await copyFile(webm, f);
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.NotMp4OrMov, ['WebM']));
    await assert.rejects(probeVideo(f), hasCode(ErrorCode.NotMp4OrMov));
  });

  it('014001108: an audio-only MP4', async () => {
    const f = await makeVideo({ out: tmp.file('audio.mp4'), audioOnly: true, seconds: 3 });
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.Unreadable, ['no video stream']));
  });

  it('014001108: a file cut short with its moov at the end (header unreadable)', async () => {
    const f = await makeVideo({ out: tmp.file('cut-moov-end.mp4'), width: 1280, height: 720, fps: 10, seconds: 3 });
    await truncateTo(f, 0.6);
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.Unreadable));
  });

  it('014001108: a faststart file cut short passes validation (header intact) but decoding fails', async () => {
    const f = await makeVideo({ out: tmp.file('cut-faststart.mp4'), width: 1280, height: 720, fps: 10, seconds: 4, faststart: true });
    await truncateTo(f, 0.5);
    const info = await validateVideoFile(f);
    assert.equal(info.durationMs, 4000);
    let frames = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of decodeFrames(f, { width: 64, height: 36, info })) frames++;
      })(),
      hasCode(ErrorCode.Unreadable, ['4.00 s']),
    );
    assert.ok(frames > 0 && frames < 40, `decoded ${frames} frames`);
  });

  it('014001105: duration 1 s', async () => {
    const f = await makeVideo({ out: tmp.file('1s.mp4'), width: 160, height: 120, seconds: 1 });
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.DurationOutOfRange, ['1 s', '2–60 s']));
  });

  it('014001105: duration 61 s', async () => {
    const f = await makeVideo({ out: tmp.file('61s.mp4'), width: 160, height: 120, fps: 2, seconds: 61 });
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.DurationOutOfRange, ['61 s', '2–60 s']));
  });

  it('014001106: 640×360 (shorter side not 720 or 1080)', async () => {
    const f = await makeVideo({ out: tmp.file('360p.mp4'), width: 640, height: 360, fps: 5, seconds: 2.5 });
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.ResolutionNotSupported, ['640×360', '360 px', '720 or 1080']));
  });

  it('014001107: 2400×1080 (a side over 2160 px)', async () => {
    const f = await makeVideo({ out: tmp.file('wide.mp4'), width: 2400, height: 1080, fps: 5, seconds: 2.5 });
    await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.DimensionsOutOfRange, ['2400', '512–2160 px']));
  });
});
