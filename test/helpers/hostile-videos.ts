/**
 * A corpus of damaged and crafted videos, made at test time from one small valid MP4: truncated
 * files, broken box structures, absurd declared dimensions, zero durations, thousands of streams,
 * polyglots and seeded random corruption. Every case is small (well under a megabyte, but for the
 * stream bomb) and must end in a clean, coded refusal — never a crash or a hang.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { childBoxes, findBox, findBoxes, makeBox, replaceBox } from './mp4-boxes.ts';
import { ffmpeg, makeVideo, type TempDir } from './make-video.ts';

/**
 * What must come of a case: an exact error code (decided by our own checks), 'refused' (any
 * input-rule code 0140011xx: ffmpeg judges the damage), 'read' (ffmpeg tolerates the damage and
 * reads the whole valid video) or 'either' (read or refused: seeded random corruption).
 */
export type Expectation = { code: string; message?: RegExp } | 'refused' | 'read' | 'either';

export interface HostileCase {
  name: string;
  file: string;
  /** What it attacks, for failure messages. */
  about: string;
  expect: Expectation;
}

/** The valid 1280×720, 2.5 s, 10 fps MP4 the crafted cases start from (moov after mdat). */
export async function makeBaseVideo(tmp: TempDir, name = 'base.mp4', faststart = false): Promise<string> {
  return makeVideo({ out: tmp.file(name), width: 1280, height: 720, fps: 10, seconds: 2.5, source: 'color', color: 'navy', crf: 35, faststart });
}

/** The same picture as Motion JPEG, 1280×720, 2.5 s at 10 fps. */
async function makeMjpegVideo(tmp: TempDir): Promise<string> {
  const out = tmp.file('corpus-mjpeg.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', 'color=c=navy:s=1280x720:r=10', '-frames:v', '25', '-c:v', 'mjpeg', '-q:v', '20', '-pix_fmt', 'yuvj420p', '-f', 'mp4', out]);
  return out;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be rebuilt. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Writes every hostile case into `tmp` and lists them. `refs` are URLs/paths a playlist-like case points at. */
export async function makeHostileCorpus(tmp: TempDir, refs: { url: string; localFile: string }): Promise<HostileCase[]> {
  const base = await readFile(await makeBaseVideo(tmp, 'corpus-base.mp4'));
  const fast = await readFile(await makeBaseVideo(tmp, 'corpus-fast.mp4', true));
  const cases: HostileCase[] = [];
  const add = async (name: string, about: string, bytes: Buffer | string, expect: Expectation = 'refused') => {
    const file = tmp.file(`hostile-${name}.mp4`);
    await writeFile(file, bytes);
    cases.push({ name, file, about, expect });
  };
  const notMp4 = { code: '014001104' };
  const patched = (src: Buffer, edit: (b: Buffer) => void) => {
    const b = Buffer.from(src);
    edit(b);
    return b;
  };
  const ftyp = findBox(base, ['ftyp']);
  const ftypBytes = base.subarray(ftyp.start, ftyp.end);
  const moov = findBox(base, ['moov']);

  // ---- truncated
  await add('empty', 'a zero-byte file', Buffer.alloc(0), notMp4);
  await add('seven-bytes', 'shorter than one box header', base.subarray(0, 7), notMp4);
  await add('ftyp-only', 'a file type box and nothing else', ftypBytes);
  for (const f of [0.1, 0.5, 0.97]) await add(`cut-${f}`, `cut to ${f * 100}% (moov at the end, lost)`, base.subarray(0, Math.floor(base.length * f)));
  await add('fast-cut-0.4', 'faststart file cut to 40% (header intact, picture data missing)', fast.subarray(0, Math.floor(fast.length * 0.4)), { code: '014001108', message: /truncated/ });
  await add('no-moov', 'the moov box removed', Buffer.concat([base.subarray(0, moov.start), base.subarray(moov.end)]));

  // ---- wrong boxes
  await add('ftyp-size-huge', 'first box claims 4 GB', patched(base, (b) => b.writeUInt32BE(0xfffffff0, 0)));
  await add('moov-size-small', 'moov claims to be 9 bytes', patched(base, (b) => b.writeUInt32BE(9, moov.start)));
  await add('moov-size-past-eof', 'moov runs past the end of the file', patched(base, (b) => b.writeUInt32BE(moov.end - moov.start + 1_000_000, moov.start)), 'read');
  await add('moov-largesize-huge', 'moov with a 64-bit size of 2^62', Buffer.concat([base.subarray(0, moov.start), u32(1), Buffer.from('moov'), Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0]), base.subarray(moov.start + 8, moov.end)]), 'read');
  const stsz = findBox(base, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsz']);
  await add('stsz-count-huge', 'sample size table declares 4 billion samples', patched(base, (b) => b.writeUInt32BE(0xffffffff, stsz.start + 16)));
  const stco = findBoxes(base, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stco'])[0] ?? findBox(base, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'co64']);
  await add('chunk-offsets-past-eof', 'every chunk offset points past the end of the file', patched(base, (b) => {
    const n = b.readUInt32BE(stco.start + 12);
    for (let i = 0; i < n; i++) b.writeUInt32BE(0x7ffffff0 + i, stco.start + 16 + i * 4);
  }));
  const stsd = findBox(base, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
  await add('stsd-garbage', 'the sample description filled with 0xFF', patched(base, (b) => b.fill(0xff, stsd.start + 16, stsd.end)));
  const avcC = base.indexOf('avcC', stsd.start, 'latin1');
  await add('avcc-garbage', 'the H.264 parameter sets overwritten with garbage', patched(base, (b) => {
    const rnd = seededRandom(7);
    for (let i = avcC + 4; i < stsd.end; i++) b[i] = Math.floor(rnd() * 256);
  }));
  let nested = makeBox('free', Buffer.alloc(0));
  for (let i = 0; i < 2000; i++) nested = makeBox(i % 2 ? 'moov' : 'trak', nested);
  await add('deep-nesting', '2000 boxes nested inside each other', Buffer.concat([ftypBytes, nested]));
  await add('box-storm', '100 000 empty free boxes before the movie', Buffer.concat([ftypBytes, Buffer.concat(Array.from({ length: 100_000 }, () => makeBox('free', Buffer.alloc(0)))), base.subarray(ftyp.end)]));

  // ---- huge declared dimensions (Motion JPEG, whose frame headers state the size plainly; ffmpeg believes them)
  const mjpeg = await readFile(await makeMjpegVideo(tmp));
  const declare = (w: number, h: number) => patched(mjpeg, (b) => {
    const entry = findBox(mjpeg, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']).start + 16;
    b.writeUInt16BE(w, entry + 32);
    b.writeUInt16BE(h, entry + 34);
    const mdat = childBoxes(mjpeg).find((x) => x.type === 'mdat')!;
    for (let i = mdat.start; i < mdat.end - 9; i++) {
      if (b[i] === 0xff && b[i + 1] === 0xc0) {
        b.writeUInt16BE(h, i + 5); // SOF0: length(2) precision(1) height(2) width(2)
        b.writeUInt16BE(w, i + 7);
      }
    }
  });
  await add('huge-dimensions', 'frames declaring 16000×16000 (a 384 MB picture each)', declare(16000, 16000), { code: '014001106', message: /16000×16000/ });
  await add('huge-width', 'frames declaring 16000×1080', declare(16000, 1080), { code: '014001107', message: /16000/ });

  // ---- zero duration
  await add('zero-duration', 'movie, track and media durations all 0, every sample 0 long', patched(base, (b) => {
    for (const path of [['moov', 'mvhd'], ['moov', 'trak', 'mdia', 'mdhd']]) {
      const box = findBox(base, path);
      b.writeUInt32BE(0, box.start + 24); // version 0: duration after creation, modification, timescale
    }
    const tkhd = findBox(base, ['moov', 'trak', 'tkhd']);
    b.writeUInt32BE(0, tkhd.start + 28);
    const stts = findBox(base, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stts']);
    const n = b.readUInt32BE(stts.start + 12);
    for (let i = 0; i < n; i++) b.writeUInt32BE(0, stts.start + 16 + i * 8 + 4); // every sample delta 0
  }));

  // ---- thousands of streams (the track copied; chunk offsets stay valid because moov follows mdat)
  const trak = findBox(base, ['moov', 'trak']);
  const streams = (n: number) => {
    const copies: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const c = Buffer.from(base.subarray(trak.start, trak.end));
      c.writeUInt32BE(i + 1, findBox(c, ['trak', 'tkhd']).start + 20); // track_ID
      copies.push(c);
    }
    return replaceBox(base, ['moov', 'trak'], Buffer.concat(copies));
  };
  const tooManyStreams = { code: '014001108', message: /more than 64 streams/ };
  await add('streams-999', '999 video streams (just under ffmpeg\'s own limit of 1000; ffprobe alone would take ~2 GB)', streams(999), tooManyStreams);
  await add('streams-3000', '3000 video streams', streams(3000), tooManyStreams);

  // ---- polyglots and files that name other inputs
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${refs.url}\n#EXTINF:10,\nfile:${refs.localFile}\n#EXT-X-ENDLIST\n`;
  await add('hls-playlist', 'an HLS playlist naming a URL and a local file', playlist, notMp4);
  await add('ffconcat', 'an ffconcat list naming a URL and a local file', `ffconcat version 1.0\nfile '${refs.url}'\nfile '${refs.localFile}'\n`, notMp4);
  await add('ftyp-then-playlist', 'an MP4 file type box followed by an HLS playlist', Buffer.concat([ftypBytes, Buffer.from(playlist)]));
  await add('mp4-with-playlist-in-mdat', 'moov and ftyp intact, a playlist in place of the picture data', patched(base, (b) => {
    const mdat = childBoxes(base).find((x) => x.type === 'mdat')!;
    b.fill(0x0a, mdat.start + 8, mdat.end);
    Buffer.from(playlist.repeat(Math.floor((mdat.end - mdat.start - 8) / playlist.length))).copy(b, mdat.start + 8);
  }));
  await add('html-after-ftyp', 'an MP4 header on an HTML page with a script', Buffer.concat([ftypBytes, Buffer.from('<html><script>fetch("http://169.254.169.254/")</script></html>')]));
  await add('gif-then-mp4', 'a GIF header followed by a whole MP4', Buffer.concat([Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), base]), { code: '014001104', message: /GIF/ });
  await add('heif-brand', 'an ftyp box whose brand is a still image (HEIF)', patched(ftypBytes, (b) => b.write('heic', 8, 'latin1')), notMp4);

  // ---- seeded random corruption of the movie header (the picture data is left alone)
  const rnd = seededRandom(20241124);
  for (let k = 0; k < 12; k++) {
    await add(`moov-flips-${k}`, `32 random bytes of moov overwritten (seed 20241124, case ${k})`, patched(base, (b) => {
      for (let i = 0; i < 32; i++) b[moov.start + 8 + Math.floor(rnd() * (moov.end - moov.start - 8))] = Math.floor(rnd() * 256);
    }), 'either');
  }
  return cases;
}
