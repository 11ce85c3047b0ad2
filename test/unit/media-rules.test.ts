import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { sniffContainerBytes } from '../../src/media/container.ts';
import { cropRect } from '../../src/media/face-image.ts';
import { videoInfoFromProbe } from '../../src/media/probe.ts';
import type { VideoInfo } from '../../src/media/types.ts';
import { checkVideoInfo, DEFAULT_LIMITS, describeBytes } from '../../src/media/validate.ts';
import { hasCode } from '../helpers/assert-error.ts';

const box = (size: number, type: string, rest = '') => {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(size, 0);
  b.write(type, 4, 'latin1');
  b.write(rest, 8, 'latin1');
  return b;
};


describe('sniffContainerBytes', () => {
  it('ftyp with a non-QuickTime brand is mp4', () => {
    assert.equal(sniffContainerBytes(box(32, 'ftyp', 'isom')), 'mp4');
    assert.equal(sniffContainerBytes(box(32, 'ftyp', 'mp42')), 'mp4');
  });
  it("ftyp with brand 'qt  ' is mov", () => {
    assert.equal(sniffContainerBytes(box(20, 'ftyp', 'qt  ')), 'mov');
  });
  it('old QuickTime files starting with moov/mdat/wide/free/skip/pnot are mov', () => {
    for (const t of ['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']) assert.equal(sniffContainerBytes(box(8, t)), 'mov', t);
  });
  it('rejects HEIF/AVIF images, WebM, text, short input and impossible box sizes', () => {
    assert.equal(sniffContainerBytes(box(24, 'ftyp', 'heic')), null);
    assert.equal(sniffContainerBytes(box(24, 'ftyp', 'avif')), null);
    assert.equal(sniffContainerBytes(Buffer.from('1a45dfa3a3428286', 'hex')), null);
    assert.equal(sniffContainerBytes(Buffer.from('hello, this is not a video')), null);
    assert.equal(sniffContainerBytes(Buffer.from('abc')), null);
    assert.equal(sniffContainerBytes(box(3, 'ftyp', 'isom')), null);
  });
});

describe('describeBytes', () => {
  it('names common non-MP4 containers', () => {
    assert.equal(describeBytes(Buffer.from('1a45dfa3a3428286', 'hex')), 'WebM/Matroska');
    assert.equal(describeBytes(Buffer.from('RIFF\0\0\0\0AVI LIST', 'latin1')), 'AVI');
    assert.equal(describeBytes(Buffer.from('just some text\n')), 'text');
    assert.equal(describeBytes(Buffer.alloc(0)), 'empty (0 bytes)');
  });
});

const info = (over: Partial<VideoInfo>): VideoInfo => ({
  format: 'mp4', sizeBytes: 1000, durationMs: 5000, width: 1280, height: 720,
  rotation: 0, fps: 30, codec: 'h264', frameCount: 150, ...over,
});

describe('checkVideoInfo (rules after probing, in order)', () => {
  it('accepts 720p and 1080p in both orientations', () => {
    for (const [w, h] of [[1280, 720], [720, 1280], [1920, 1080], [1080, 1920], [960, 720], [1080, 1080]]) {
      checkVideoInfo(info({ width: w, height: h }));
    }
  });
  it('duration outside 2–60 s → 014001105 naming value and limit', () => {
    assert.throws(() => checkVideoInfo(info({ durationMs: 1999 })), hasCode(ErrorCode.DurationOutOfRange, ['1.999 s', '2–60 s']));
    assert.throws(() => checkVideoInfo(info({ durationMs: 61_200 })), hasCode(ErrorCode.DurationOutOfRange, ['61.2 s', '2–60 s']));
    checkVideoInfo(info({ durationMs: 2000 }));
    checkVideoInfo(info({ durationMs: 60_000 }));
  });
  it('duration is checked before resolution', () => {
    assert.throws(() => checkVideoInfo(info({ durationMs: 1000, width: 640, height: 360 })), hasCode(ErrorCode.DurationOutOfRange));
  });
  it('short side not 720/1080 → 014001106, also when a side is below 512 (640×360) or 2160 (4096×2160)', () => {
    assert.throws(() => checkVideoInfo(info({ width: 640, height: 360 })), hasCode(ErrorCode.ResolutionNotSupported, ['640×360', '360 px', '720 or 1080']));
    assert.throws(() => checkVideoInfo(info({ width: 4096, height: 2160 })), hasCode(ErrorCode.ResolutionNotSupported, ['2160 px']));
    assert.throws(() => checkVideoInfo(info({ width: 960, height: 540 })), hasCode(ErrorCode.ResolutionNotSupported));
  });
  it('a side outside 512–2160 with an allowed short side → 014001107', () => {
    assert.throws(() => checkVideoInfo(info({ width: 2400, height: 1080 })), hasCode(ErrorCode.DimensionsOutOfRange, ['width 2400 px', '512–2160 px']));
    assert.throws(() => checkVideoInfo(info({ width: 1080, height: 2400 })), hasCode(ErrorCode.DimensionsOutOfRange, ['height 2400 px']));
  });
  it('limits can be overridden', () => {
    checkVideoInfo(info({ width: 640, height: 360 }), { ...DEFAULT_LIMITS, minSide: 256, allowedShortSides: [360, 720] });
  });
});

describe('videoInfoFromProbe', () => {
  const stream = (over: Record<string, unknown> = {}) => ({
    index: 0, codec_type: 'video', codec_name: 'h264', width: 1280, height: 720,
    avg_frame_rate: '30/1', r_frame_rate: '30/1', duration: '4.000000', nb_frames: '120', start_time: '0.000000', ...over,
  });
  const fmt = { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '4.2', start_time: '0.000000' };

  it('applies display-matrix rotation (90/270 swap sides)', () => {
    const v = videoInfoFromProbe({ streams: [stream({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })], format: fmt }, 'mp4', 10);
    assert.deepEqual([v.width, v.height, v.rotation, v.codedWidth, v.codedHeight], [720, 1280, 270, 1280, 720]);
  });
  it('falls back to the rotate tag of old ffprobe builds (clockwise)', () => {
    const v = videoInfoFromProbe({ streams: [stream({ tags: { rotate: '90' } })], format: fmt }, 'mp4', 10);
    assert.deepEqual([v.width, v.height, v.rotation], [720, 1280, 270]);
    const u = videoInfoFromProbe({ streams: [stream({ tags: { rotate: '180' } })], format: fmt }, 'mp4', 10);
    assert.deepEqual([u.width, u.height, u.rotation], [1280, 720, 180]);
  });
  it('fps from avg_frame_rate, else r_frame_rate; duration from the stream, else the format; frame count estimated', () => {
    const v = videoInfoFromProbe({ streams: [stream({ avg_frame_rate: '0/0', r_frame_rate: '25/1', duration: undefined, nb_frames: undefined })], format: fmt }, 'mov', 10);
    assert.equal(v.fps, 25);
    assert.equal(v.durationMs, 4200);
    assert.equal(v.frameCount, 105);
    assert.equal(v.format, 'mov');
  });
  it('startOffsetMs: the video starting after another stream', () => {
    const v = videoInfoFromProbe({ streams: [stream({ start_time: '0.852000' })], format: fmt }, 'mp4', 10);
    assert.equal(v.startOffsetMs, 852);
  });
  it('no video stream, or only cover art → 014001108', () => {
    assert.throws(() => videoInfoFromProbe({ streams: [{ index: 0, codec_type: 'audio', codec_name: 'aac' }], format: fmt }, 'mp4', 10), hasCode(ErrorCode.Unreadable, ['no video stream', 'audio']));
    assert.throws(() => videoInfoFromProbe({ streams: [stream({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } })], format: fmt }, 'mp4', 10), hasCode(ErrorCode.Unreadable));
  });
  it('unknown codec → 014001108', () => {
    assert.throws(() => videoInfoFromProbe({ streams: [stream({ codec_name: undefined, codec_tag_string: 'zzzz' })], format: fmt }, 'mp4', 10), hasCode(ErrorCode.Unreadable, ['zzzz']));
  });
});

describe('cropRect', () => {
  it('adds the margin on each side and clamps to the frame', () => {
    assert.deepEqual(cropRect({ x: 100, y: 50, width: 200, height: 100 }, 0.4, 640, 360), { x: 20, y: 10, width: 360, height: 180 });
    assert.deepEqual(cropRect({ x: 600, y: 300, width: 100, height: 100 }, 0.4, 640, 360), { x: 560, y: 260, width: 80, height: 100 });
  });
  it('rejects a box outside the frame', () => {
    assert.throws(() => cropRect({ x: 700, y: 0, width: 10, height: 10 }, 0, 640, 360), RangeError);
  });
});
