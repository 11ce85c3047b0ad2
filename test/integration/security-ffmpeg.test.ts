import assert from 'node:assert/strict';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, KirinError } from '../../src/errors.ts';
import { ffmpegPath, ffprobePath, resetBinaryCache } from '../../src/media/binaries.ts';
import { decodeFrames } from '../../src/media/decode.ts';
import { cutFaceImage } from '../../src/media/face-image.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { UNTRUSTED_INPUT_OPTIONS, memoryLimitAvailable, runTool, spawnTool } from '../../src/media/run-tool.ts';
import { validateVideoFile } from '../../src/media/validate.ts';
import { hasCode } from '../helpers/assert-error.ts';
import { makeTempDir, makeVideo, type TempDir } from '../helpers/make-video.ts';
import { MODEL, settled, startTestService, type TestService } from '../helpers/service.ts';

/**
 * ffmpeg meets untrusted bytes (README, Security): it reads only the local file it is given and
 * only as MP4/MOV, it runs under a memory limit and a wall-clock limit, and a hang or crash of
 * it fails the work with 014002095 and leaves nothing behind.
 */

/** Pids of processes whose command line contains `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1').includes(needle)) pids.push(Number(d));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

async function assertNoProcess(needle: string): Promise<void> {
  for (let i = 0; i < 50 && processesMentioning(needle).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(processesMentioning(needle), [], `a process with "${needle}" is still running`);
}

/** A distinctive argument for the stand-ins' `sleep`, so the test can look for it in /proc. */
const HANG = 'sleep 987.654';

/**
 * A stand-in for ffmpeg/ffprobe that hangs or crashes (SIGSEGV) when its arguments contain
 * `when`, and otherwise runs the real tool. `mode` is a file holding "hang" or "crash".
 */
async function standIn(tmp: TempDir, name: string, real: string, when: string, mode: string): Promise<string> {
  const file = tmp.file(name);
  await writeFile(
    file,
    `#!/bin/sh\n` +
      `case " $* " in *" ${when} "*)\n` +
      `  if [ "$(cat '${mode}')" = crash ]; then kill -SEGV $$; else exec ${HANG}; fi ;;\n` +
      `esac\n` +
      `exec '${real}' "$@"\n`,
  );
  await chmod(file, 0o755);
  return file;
}

/** Runs `fn` with these environment variables set (undefined: removed), then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
    resetBinaryCache();
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

describe('security: what ffmpeg may read', () => {
  let tmp: TempDir;
  let other: string;
  let server: http.Server;
  let hits = 0;
  let refUrl = '';

  before(async () => {
    tmp = await makeTempDir('kirin-ffsec-');
    other = await makeVideo({ out: tmp.file('other.mp4'), width: 320, height: 240, fps: 10, seconds: 1 });
    server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    refUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/segment.mp4`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await tmp?.cleanup();
  });

  const streamsOf = async (file: string, inputOptions: readonly string[]) => {
    const r = await runTool(ffprobePath(), ['-v', 'error', ...inputOptions, '-print_format', 'json', '-show_streams', '-i', `file:${file}`], { timeoutMs: 20_000 });
    return r.exitCode === 0 ? ((JSON.parse(r.stdout.toString('utf8')).streams ?? []) as Array<{ codec_name?: string }>) : [];
  };

  it('an HLS playlist naming another local video: bare ffprobe reads that other file, with our input options nothing is read', async () => {
    const playlist = tmp.file('playlist.mp4');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${other}\n#EXT-X-ENDLIST\n`);
    const bare = await streamsOf(playlist, []);
    assert.ok(bare.some((s) => s.codec_name === 'h264'), `control: the playlist really pulls in the other file (${JSON.stringify(bare)})`);
    assert.deepEqual(await streamsOf(playlist, UNTRUSTED_INPUT_OPTIONS), [], 'with UNTRUSTED_INPUT_OPTIONS the playlist is not followed');
    await assert.rejects(probeVideo(playlist), hasCode(ErrorCode.NotMp4OrMov));
  });

  it('an ffconcat list naming another local video: the same', async () => {
    const list = tmp.file('list.mp4');
    await writeFile(list, `ffconcat version 1.0\nfile other.mp4\n`);
    const bare = await streamsOf(list, []);
    assert.ok(bare.some((s) => s.codec_name === 'h264'), `control: the list pulls in the other file (${JSON.stringify(bare)})`);
    assert.deepEqual(await streamsOf(list, UNTRUSTED_INPUT_OPTIONS), []);
    await assert.rejects(validateVideoFile(list), hasCode(ErrorCode.NotMp4OrMov));
  });

  it('files naming URLs (playlist, concat list, a playlist behind an MP4 header) never make ffmpeg fetch anything', async () => {
    const cases = {
      'hls.mp4': `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${refUrl}\n#EXT-X-ENDLIST\n`,
      'key.mp4': `#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="${refUrl}"\n#EXTINF:1,\n${other}\n#EXT-X-ENDLIST\n`,
      'concat.mp4': `ffconcat version 1.0\nfile '${refUrl}'\n`,
    };
    const ftyp = (await readFile(other)).subarray(0, 32);
    for (const [name, text] of Object.entries(cases)) {
      const f = tmp.file(name);
      await writeFile(f, text);
      await streamsOf(f, UNTRUSTED_INPUT_OPTIONS);
      await assert.rejects(validateVideoFile(f), hasCode(ErrorCode.NotMp4OrMov), name);
      const behindHeader = tmp.file(`ftyp-${name}`);
      await writeFile(behindHeader, Buffer.concat([ftyp, Buffer.from(text)]));
      await assert.rejects(validateVideoFile(behindHeader), (e) => e instanceof KirinError && e.code.startsWith('0140011'), `ftyp + ${name}`);
    }
    assert.equal(hits, 0, 'the referenced URL was requested');
  });
});

describe('security: ffmpeg limits, hangs and crashes', () => {
  let tmp: TempDir;
  let hd: string;
  let small: string;
  let mode: string;

  before(async () => {
    tmp = await makeTempDir('kirin-fflim-');
    hd = await makeVideo({ out: tmp.file('hd.mp4'), width: 1920, height: 1080, fps: 10, seconds: 1 });
    small = await makeVideo({ out: tmp.file('small.mp4'), width: 160, height: 120, fps: 10, seconds: 1 });
    mode = tmp.file('mode');
  });
  after(async () => {
    await tmp?.cleanup();
  });

  const decodeAll = async (file: string) => {
    let n = 0;
    for await (const _ of decodeFrames(file, { width: 64, height: 36, pixelFormat: 'yuv420p' })) n++;
    return n;
  };

  it('each tool runs under RLIMIT_DATA = KIRIN_FFMPEG_MEMORY_MB and with core dumps off', { skip: !memoryLimitAvailable() && 'prlimit is not installed' }, async () => {
    await withEnv({ KIRIN_FFMPEG_MEMORY_MB: '64' }, async () => {
      const child = spawnTool('/bin/sleep', ['5']);
      try {
        await new Promise((r) => setTimeout(r, 200)); // prlimit has exec'd sleep by now
        const limits = readFileSync(`/proc/${child.pid}/limits`, 'utf8');
        assert.match(limits, /Max data size\s+67108864\s+67108864\s+bytes/, limits);
        assert.match(limits, /Max core file size\s+0\s+0\s+bytes/, limits);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });

  it('a decode that needs more than the memory limit fails cleanly (1080p under 48 MB); the default limit decodes it', { skip: !memoryLimitAvailable() && 'prlimit is not installed' }, async () => {
    await withEnv({ KIRIN_FFMPEG_MEMORY_MB: '48' }, async () => {
      await assert.rejects(decodeAll(hd), (e) => e instanceof KirinError && e.code === ErrorCode.Unreadable, 'decoding under 48 MB');
    });
    assert.equal(await decodeAll(hd), 10, 'the same file decodes under the default limit');
  });

  it('ffprobe that hangs is killed at KIRIN_PROBE_TIMEOUT_MS → 014002095', async () => {
    await writeFile(mode, 'hang');
    const fake = await standIn(tmp, 'ffprobe-hang', ffprobePath(), '-show_streams', mode);
    await withEnv({ FFPROBE_PATH: fake, KIRIN_PROBE_TIMEOUT_MS: '400' }, async () => {
      const t0 = Date.now();
      await assert.rejects(probeVideo(small), hasCode(ErrorCode.Internal, ['ffprobe', 'did not finish within 0.4 s']));
      assert.ok(Date.now() - t0 < 5000);
    });
    await assertNoProcess(HANG);
  });

  it('ffprobe that crashes → 014002095 naming the signal, not "unreadable"', async () => {
    await writeFile(mode, 'crash');
    const fake = await standIn(tmp, 'ffprobe-crash', ffprobePath(), '-show_streams', mode);
    await withEnv({ FFPROBE_PATH: fake }, async () => {
      await assert.rejects(probeVideo(small), hasCode(ErrorCode.Internal, ['ffprobe crashed (SIGSEGV)']));
    });
  });

  it('a decode that hangs is killed at KIRIN_DECODE_TIMEOUT_MS → 014002095; a decode that crashes → 014002095', async () => {
    const fake = await standIn(tmp, 'ffmpeg-decode', ffmpegPath(), 'rawvideo', mode);
    await writeFile(mode, 'hang');
    await withEnv({ FFMPEG_PATH: fake, KIRIN_DECODE_TIMEOUT_MS: '500' }, async () => {
      await assert.rejects(decodeAll(small), hasCode(ErrorCode.Internal, ['did not finish within 0.5 s']));
      await assertNoProcess(HANG);
    });
    // a timeout a loaded machine cannot hit before the crash (the reader thread and ffmpeg start first)
    await writeFile(mode, 'crash');
    await withEnv({ FFMPEG_PATH: fake, KIRIN_DECODE_TIMEOUT_MS: '20000' }, async () => {
      await assert.rejects(decodeAll(small), hasCode(ErrorCode.Internal, ['crashed (SIGSEGV)']));
    });
  });

  it('cutting a face picture with an ffmpeg that crashes → 014002095 and no picture file', async () => {
    await writeFile(mode, 'crash');
    const fake = await standIn(tmp, 'ffmpeg-picture', ffmpegPath(), 'image2', mode);
    const out = tmp.file('face.jpg');
    await withEnv({ FFMPEG_PATH: fake }, async () => {
      await assert.rejects(cutFaceImage(small, { timeMs: 0, box: { x: 40, y: 30, width: 40, height: 40 }, outFile: out }), hasCode(ErrorCode.Internal, ['crashed']));
    });
    assert.deepEqual((await readdir(tmp.dir)).filter((f) => f === 'face.jpg'), []);
  });
});

describe('security: an ffmpeg hang or crash inside the service', () => {
  let tmp: TempDir;
  let t: TestService;
  let videoId: string;
  let mode: string;
  const restore: Record<string, string | undefined> = {};

  before(async () => {
    tmp = await makeTempDir('kirin-ffsvc-');
    mode = tmp.file('mode');
    const fake = await standIn(tmp, 'ffmpeg', ffmpegPath(), 'rawvideo', mode);
    // analysis worker threads take their environment from the process when they start
    // long enough that a crash on a loaded machine is seen as one, not as a timeout (a fresh
    // analysis thread loads its models while the decode starts)
    for (const [k, v] of Object.entries({ FFMPEG_PATH: fake, KIRIN_DECODE_TIMEOUT_MS: '8000' })) {
      restore[k] = process.env[k];
      process.env[k] = v;
    }
    t = await startTestService();
    const clip = await makeVideo({ out: tmp.file('clip.mp4'), width: 1280, height: 720, fps: 10, seconds: 2.5 });
    const up = await t.api('POST', '/v1/videos', { raw: await readFile(clip), headers: { 'content-type': 'video/mp4' } });
    assert.equal(up.status, 201, up.text);
    videoId = up.json.video_id;
  });
  after(async () => {
    for (const [k, v] of Object.entries(restore)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetBinaryCache();
    await t?.close();
    await tmp?.cleanup();
  });

  for (const what of ['hang', 'crash'] as const) {
    it(`decoding ffmpeg ${what === 'hang' ? 'hangs' : 'crashes'} → the task fails with 014002095, no scratch files or processes are left, the service goes on`, async () => {
      await writeFile(mode, what);
      const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_id: videoId } });
      assert.equal(r.status, 200, r.text);
      const task = await settled(t.api, r.json.id, 60_000);
      assert.equal(task.status, 'failed');
      assert.equal(task.error.code, '014002095', JSON.stringify(task.error));
      assert.match(task.error.error_message, what === 'hang' ? /did not finish within 8 s/ : /crashed \(SIGSEGV\)/);
      assert.ok(!task.error.error_message.includes(t.dataDir), 'no local path in the message');
      assert.equal(task.usage, undefined, 'a failed task costs nothing');
      assert.deepEqual((await readdir(join(t.dataDir, 'tmp')).catch(() => [])).filter((f) => f.includes(r.json.id)), [], 'scratch files of the task');
      await assertNoProcess(HANG);
      assert.equal((await t.api('GET', '/healthz', { key: null })).status, 200);
    });
  }
});
