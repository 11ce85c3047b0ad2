import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KirinError } from '../../src/errors.ts';
import { decodeFrames } from '../../src/media/decode.ts';
import { validateVideoFile } from '../../src/media/validate.ts';
import { makeHostileCorpus, type Expectation, type HostileCase } from '../helpers/hostile-videos.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, assertNoStack, serveFiles, settled, startTestService, type TestService } from '../helpers/service.ts';

/**
 * Damaged and crafted videos (test/helpers/hostile-videos.ts), made at test time: each one ends
 * in a clean coded answer within seconds — never an uncoded error, a crash, a hang, a leaked
 * local path or a fetched URL.
 */

type Outcome = { read: true; frames: number } | { read: false; error: unknown };

/** What the engine makes of a file: the input rules, then every frame decoded (small). */
async function judge(file: string): Promise<Outcome> {
  try {
    const info = await validateVideoFile(file);
    let frames = 0;
    for await (const _ of decodeFrames(file, { width: 64, height: 36, info, pixelFormat: 'yuv420p' })) frames++;
    return { read: true, frames };
  } catch (error) {
    return { read: false, error };
  }
}

const isInputRuleCode = (code: string) => /^0140011\d\d$/.test(code);

/** Checks an outcome (or a failed task's error) against the case's expectation. */
function check(c: HostileCase, read: boolean, code: string | undefined, message: string, detail: string): void {
  const label = `${c.name} (${c.about}): ${detail}`;
  const e: Expectation = c.expect;
  if (e === 'read') return assert.ok(read, `${label} should be read`);
  if (read) return assert.ok(e === 'either', `${label} should be refused`);
  assert.ok(code && isInputRuleCode(code), `${label}: an input-rule code, got ${code}`);
  if (typeof e === 'object') {
    assert.equal(code, e.code, label);
    if (e.message) assert.match(message, e.message, label);
  }
}

/** One case of each kind also goes through the whole service (the engine run covers them all). */
const THROUGH_THE_SERVICE = [
  'cut-0.5', 'fast-cut-0.4', 'moov-size-small', 'moov-size-past-eof', 'chunk-offsets-past-eof', 'deep-nesting', 'huge-dimensions',
  'huge-width', 'zero-duration', 'streams-999', 'hls-playlist', 'ftyp-then-playlist', 'mp4-with-playlist-in-mdat', 'gif-then-mp4', 'moov-flips-7',
];

let tmp: TempDir;
let corpus: HostileCase[];
/** Serves the corpus for video_url and counts every request, also for the URLs named inside the files. */
let files: Awaited<ReturnType<typeof serveFiles>>;
const NAMED_URL_PATH = '/named-inside-a-file.ts';

before(async () => {
  tmp = await makeTempDir('kirin-fuzz-');
  files = await serveFiles(tmp.dir);
  corpus = await makeHostileCorpus(tmp, { url: `${files.url}${NAMED_URL_PATH}`, localFile: tmp.file('corpus-base.mp4') });
});
after(async () => {
  await files?.close();
  await tmp?.cleanup();
});

describe('fuzz: hostile videos through the engine', () => {

  it('the corpus has every kind of damage the issue names', () => {
    const names = corpus.map((c) => c.name).join(' ');
    for (const kind of ['cut-', 'moov-size', 'huge-dimensions', 'zero-duration', 'streams-3000', 'ftyp-then-playlist', 'gif-then-mp4', 'moov-flips-']) {
      assert.ok(names.includes(kind), `a ${kind} case`);
    }
    assert.ok(corpus.length >= 35, `${corpus.length} cases`);
  });

  it('every case: the expected coded answer within 10 s, no stack, no local path, no uncoded error', async () => {
    for (const c of corpus) {
      const t0 = Date.now();
      const out = await judge(c.file);
      const ms = Date.now() - t0;
      assert.ok(ms < 10_000, `${c.name} took ${ms} ms`);
      if (out.read) {
        check(c, true, undefined, '', `read ${out.frames} frames`);
        if (c.expect === 'read') assert.equal(out.frames, 25, `${c.name}: every frame`);
        continue;
      }
      assert.ok(out.error instanceof KirinError, `${c.name} (${c.about}): not a coded error: ${String(out.error)}`);
      const { code, message } = out.error;
      check(c, false, code, message, `${code} ${message}`);
      assert.ok(!message.includes('\n'), `${c.name}: one line`);
      assert.ok(!message.includes(tmp.dir), `${c.name}: the local path leaks in "${message}"`);
    }
  });

  it('no URL named by any case was fetched, and no ffmpeg/ffprobe is left running', async () => {
    assert.equal(files.hits.get(NAMED_URL_PATH) ?? 0, 0);
    const left = readdirSync('/proc').filter((d) => {
      try {
        return /^\d+$/.test(d) && readFileSync(`/proc/${d}/cmdline`, 'latin1').includes('hostile-');
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, []);
  });
});

describe('fuzz: hostile videos through the service, by video_url', () => {
  let t: TestService;

  before(async () => {
    t = await startTestService({ KIRIN_WORKERS: '2', KIRIN_MAX_ACTIVE_TASKS: '0' });
  });
  after(async () => {
    await t?.close();
  });

  it('one case of each kind: the task ends completed or failed with the expected code, the service stays healthy, no scratch files remain', async () => {
    const tasks = [];
    for (const c of corpus.filter((x) => THROUGH_THE_SERVICE.includes(x.name))) {
      const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(c.file) } });
      assert.equal(r.status, 200, `${c.name}: ${r.text}`);
      tasks.push({ c, id: r.json.id as string });
    }
    for (const { c, id } of tasks) {
      const task = await settled(t.api, id, 60_000);
      const text = JSON.stringify(task);
      assertNoStack(text);
      assert.ok(!text.includes(t.dataDir), `${c.name}: a local path in ${text.slice(0, 300)}`);
      check(c, task.status === 'completed', task.error?.code, task.error?.error_message ?? '', `${task.status} ${text.slice(0, 300)}`);
    }
    assert.equal(tasks.length, THROUGH_THE_SERVICE.length);
    assert.equal(files.hits.get(NAMED_URL_PATH) ?? 0, 0, 'a URL named inside a file was fetched');
    assert.equal((await t.api('GET', '/healthz', { key: null })).status, 200);
    assert.deepEqual((await readdir(join(t.dataDir, 'tmp')).catch(() => [])).filter((f) => f.startsWith('task_')), []);
  });
});
