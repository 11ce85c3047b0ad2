import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TaskAdmission } from '../../src/api/task-admission.ts';
import { TooManyRequests } from '../../src/api/too-many-requests.ts';
import { migrate, openSqlite, type Db } from '../../src/storage/database.ts';
import { newId } from '../../src/storage/ids.ts';
import { kyselyRepositories } from '../../src/storage/repositories/index.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';

/** The concurrency and queue limits on their own, with a create that takes a while (as over a network database). */
describe('TaskAdmission', () => {
  let tmp: TempDir;
  let db: Db;

  before(async () => {
    tmp = await makeTempDir('kirin-admission-');
    db = openSqlite(tmp.file('kirin.db'));
    await migrate(db);
  });
  after(async () => {
    await db?.destroy();
    await tmp?.cleanup();
  });

  const insertTask = async (owner: string, status: 'pending' | 'processing' | 'completed' | 'failed', externalId: string | null = null) => {
    const id = newId('task');
    await db.insertInto('tasks').values({
      id, owner, model: 'kirin_identify_face', external_task_id: externalId, status, progress: 0, video_id: null,
      video_url: 'https://example.com/v.mp4', callback_url: null, created_at: Date.now(), started_at: null, completed_at: null,
      error_code: null, error_message: null, result_text: null, cost_usd: null, video_meta: null,
    }).execute();
    return id;
  };
  /** A create whose insert lands 5 ms later, like a real one (validation, a database round trip). */
  const slowCreate = (owner: string, externalId: string | null = null) => async () => {
    await new Promise((r) => setTimeout(r, 5));
    return insertTask(owner, 'pending', externalId);
  };
  const outcomes = async (calls: Array<Promise<unknown>>) => {
    const settled = await Promise.allSettled(calls);
    for (const s of settled) if (s.status === 'rejected') assert.ok(s.reason instanceof TooManyRequests, String(s.reason));
    return { admitted: settled.filter((s) => s.status === 'fulfilled').length, refused: settled.filter((s) => s.status === 'rejected').length };
  };

  it('50 concurrent creates of one owner with a limit of 4: exactly 4 admitted (the count and the insert cannot interleave)', async () => {
    const admission = new TaskAdmission(kyselyRepositories(db), { activeTasksPerOwner: 4, queuedTasks: 0 });
    const r = await outcomes(Array.from({ length: 50 }, () => admission.admit('burst', undefined, slowCreate('burst'))));
    assert.deepEqual(r, { admitted: 4, refused: 46 });
  });

  it('finished tasks do not count; pending and processing do; other owners are counted apart', async () => {
    const admission = new TaskAdmission(kyselyRepositories(db), { activeTasksPerOwner: 2, queuedTasks: 0 });
    await insertTask('mixed', 'completed');
    await insertTask('mixed', 'failed');
    await insertTask('mixed', 'processing');
    await admission.admit('mixed', undefined, slowCreate('mixed'));
    await assert.rejects(admission.admit('mixed', undefined, slowCreate('mixed')), (e) => {
      assert.ok(e instanceof TooManyRequests);
      assert.equal(e.code, '014001401');
      assert.equal(e.retryAfterSeconds, 5);
      assert.match(e.message, /2 tasks .* the limit is 2/);
      return true;
    });
    await admission.admit('someone-else', undefined, slowCreate('someone-else'));
  });

  it('a replayed external_task_id is let through at the limit (it creates nothing); a new one is not', async () => {
    const admission = new TaskAdmission(kyselyRepositories(db), { activeTasksPerOwner: 1, queuedTasks: 0 });
    await admission.admit('replayer', 'ext-1', slowCreate('replayer', 'ext-1'));
    let replayed = false;
    await admission.admit('replayer', 'ext-1', async () => {
      replayed = true;
    });
    assert.ok(replayed);
    await assert.rejects(admission.admit('replayer', 'ext-2', slowCreate('replayer', 'ext-2')), TooManyRequests);
  });

  it('the queue limit counts pending tasks of every owner; a burst cannot overfill it', async () => {
    const pendingNow = Number((await db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);
    const admission = new TaskAdmission(kyselyRepositories(db), { activeTasksPerOwner: 0, queuedTasks: pendingNow + 3 });
    // one owner's creates are serialised: 20 at once from one owner fill exactly the 3 places left
    const r = await outcomes(Array.from({ length: 20 }, () => admission.admit('filler', undefined, slowCreate('filler'))));
    assert.deepEqual(r, { admitted: 3, refused: 17 });
    await assert.rejects(admission.admit('newcomer', undefined, slowCreate('newcomer')), (e) => e instanceof TooManyRequests && /queue is full/.test(e.message) && e.retryAfterSeconds === 10);
  });

  it('a limit of 0 is no limit', async () => {
    const admission = new TaskAdmission(kyselyRepositories(db), { activeTasksPerOwner: 0, queuedTasks: 0 });
    const r = await outcomes(Array.from({ length: 10 }, () => admission.admit('free', undefined, slowCreate('free'))));
    assert.deepEqual(r, { admitted: 10, refused: 0 });
  });
});
