import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FULL_HOLD_MS } from '../../src/storage/disk-space.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, assertError, makeFaceVideo, serveFiles, settled, startTestService, waitFor, type TestService } from '../helpers/service.ts';

/**
 * A full disk (README, Operations), on a 16 MB tmpfs as KIRIN_DATA_DIR: uploads and creates
 * answer 507 with the contract's body, /readyz says not ready, a task that meets the full disk
 * goes back to pending and completes once there is room again.
 */

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Why a tmpfs cannot be mounted here (not root, no mount in a container), or undefined when it can. */
async function mountProblem(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'kirin-mount-probe-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    await run('umount', [dir]);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs to fill (needs root and mount): ${(e as Error).message.split('\n')[0]}`;
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
}
const skip = await mountProblem();

describe('service: a full disk', { skip }, () => {
  let tmp: TempDir;
  let mnt: string;
  let t: TestService;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let small: string; // a valid face video, small
  let big: string; // the same video padded to 4 MB with an ISO-BMFF `free` box
  const filler = () => join(mnt, 'filler');

  before(async () => {
    tmp = await makeTempDir('kirin-diskfull-');
    mnt = tmp.file('small-disk');
    await mkdir(mnt);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
    small = await makeFaceVideo(tmp, 'face');
    const bytes = await readFile(small);
    const pad = Buffer.alloc(4 * MiB - bytes.length);
    pad.writeUInt32BE(pad.length, 0);
    pad.write('free', 4, 'latin1');
    big = tmp.file('face-big.mp4');
    await writeFile(big, Buffer.concat([bytes, pad]));
    files = await serveFiles(tmp.dir);
    t = await startTestService({ KIRIN_DATA_DIR: mnt, KIRIN_MIN_FREE_MB: '1', KIRIN_STUCK_CHECK_MS: '1000' });
  });
  after(async () => {
    await t?.close();
    await files?.close();
    if (mnt) await run('umount', [mnt]).catch(() => undefined);
    await tmp?.cleanup();
  });

  const free = async () => {
    const s = await statfs(mnt);
    return s.bavail * s.bsize;
  };

  /** Fills the disk until `leave` bytes are free (0: until a write fails). */
  async function fill(leave: number): Promise<void> {
    const fh = await open(filler(), 'a');
    try {
      for (const chunk of [MiB, 64 * 1024, 4096]) {
        const buf = Buffer.alloc(chunk, 1);
        for (;;) {
          if (leave > 0 && (await free()) - chunk < leave) break;
          try {
            await fh.write(buf);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            break;
          }
        }
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await f();
    return [r, Math.round(performance.now() - t0)];
  };
  const ready = async () => (await t.api('GET', '/readyz', { key: null })).status;

  it('disk full: /readyz 503, uploads and creates 507 014002097 with Retry-After, nothing kept; ready again once there is room', async () => {
    assert.equal(await ready(), 200);
    await fill(0);
    const [readyz, readyMs] = await timed(ready);
    assert.equal(readyz, 503);
    const [up, upMs] = await timed(() => t.api('POST', '/v1/videos', { raw: new Uint8Array(0) as unknown as BodyInit, headers: { 'content-type': 'video/mp4' } }));
    assertError(up, 507, '014002097', 'upload');
    assert.equal(up.headers.get('retry-after'), '30');
    assert.match(up.json.error.error_message, /disk is full/);
    const [create, createMs] = await timed(() => t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(small) } }));
    assertError(create, 507, '014002097', 'create');
    assert.deepEqual((await t.api('GET', '/model/v1/generation')).json.data, [], 'no task was made');
    process.stdout.write(`# disk full: /readyz 503 in ${readyMs} ms, upload 507 in ${upMs} ms, create 507 in ${createMs} ms\n`);
    await rm(filler());
    assert.equal(await ready(), 200, 'ready again once space is back');
  });

  it('an upload that fills the disk on the way: 507, its partial file removed, /readyz 503 for a while', async () => {
    await fill(2 * MiB);
    const before = await free();
    const [up, ms] = await timed(async () => t.api('POST', '/v1/videos', { raw: (await readFile(big)) as unknown as BodyInit, headers: { 'content-type': 'video/mp4' } }));
    assertError(up, 507, '014002097', 'upload over the free space');
    assert.match(up.json.error.error_message, /the upload could not be stored/);
    assert.ok((await free()) >= before - 64 * 1024, 'the partial upload was removed');
    assert.equal(await ready(), 503, 'not ready right after a full-disk error');
    process.stdout.write(`# upload meeting ENOSPC: 507 in ${ms} ms\n`);
    await rm(filler());
    await waitFor(async () => (await ready()) === 200, FULL_HOLD_MS + 5000, 'ready again');
  });

  it('a task that meets the full disk (its download) goes back to pending, is not failed, and completes once there is room', async () => {
    await fill(2 * MiB);
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(big) } });
    assert.equal(r.status, 200, r.text);
    const id = r.json.id as string;
    // the download of 4 MB into 2 MB fails with ENOSPC: the task is put back, the disk reported full
    await waitFor(async () => (await ready()) === 503, 30_000, '/readyz to report the full disk');
    const row = await t.svc.db.selectFrom('tasks').select(['status', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.ok(row.attempts >= 1, 'it was tried');
    await new Promise((res) => setTimeout(res, 3000));
    const during = (await t.api('GET', `/model/v1/generation/${id}`)).json;
    assert.notEqual(during.status, 'failed', JSON.stringify(during.error));
    assert.notEqual(during.status, 'completed');
    const freedAt = Date.now();
    await rm(filler());
    const task = await settled(t.api, id, 120_000);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const attempts = (await t.svc.db.selectFrom('tasks').select('attempts').where('id', '=', id).executeTakeFirstOrThrow()).attempts;
    process.stdout.write(`# task meeting ENOSPC: completed ${Date.now() - freedAt} ms after space was freed, ${attempts} attempts\n`);
    const processing = await t.svc.db.selectFrom('tasks').select('id').where('status', '=', 'processing').execute();
    assert.deepEqual(processing, [], 'no task left processing');
  });
});
