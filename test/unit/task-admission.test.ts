import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TaskAdmission, type AdmissionLimits } from '../../src/api/task-admission.ts';
import { TooManyRequests } from '../../src/api/too-many-requests.ts';
import { migrate, openSqlite, type Db } from '../../src/storage/database.ts';
import { kyselyRepositories, type Repositories } from '../../src/storage/repositories/index.ts';
import type { TaskStatus } from '../../src/storage/schema.ts';
import { InMemoryRepositories } from '../fakes/repositories.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';

/**
 * Admission's rules: the per-owner limit on pending and processing tasks, the queue limit on
 * pending ones, replays let through, 0 as no limit, and one owner's creates taken one at a time
 * while other owners' go on. Every rule over the in-memory repositories (the fakes services are
 * tested with) and over SQLite through Kysely (the counts admission reads are real queries there,
 * and a burst must not slip between a count and an insert).
 */

let seq = 0;
let tmp: TempDir | undefined;
const opened: Db[] = [];
after(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
  await tmp?.cleanup();
});

const backends: { name: string; open(): Promise<Repositories> }[] = [
  { name: 'in-memory repositories', open: async () => new InMemoryRepositories() },
  {
    name: 'SQLite',
    open: async () => {
      tmp ??= await makeTempDir('kirin-admission-');
      const db = openSqlite(tmp.file(`admission-${++seq}.db`));
      opened.push(db);
      await migrate(db);
      return kyselyRepositories(db);
    },
  },
];

async function setup(backend: (typeof backends)[number], limits: AdmissionLimits) {
  const repositories = await backend.open();
  const admission = new TaskAdmission(repositories, limits);
  const add = (owner: string, status: TaskStatus = 'pending', externalId: string | null = null) => {
    const id = `task_${String(++seq).padStart(6, '0')}`;
    return repositories.tasks
      .insert({
        id, owner, model: 'kirin_identify_face', external_task_id: externalId, status, progress: 0, video_id: null, video_url: 'https://v.example.com/a.mp4',
        callback_url: null, created_at: seq, started_at: null, completed_at: null, error_code: null, error_message: null, result_text: null, cost_usd: null, video_meta: null,
      })
      .then(() => id);
  };
  /** A create that stores its task a few ms later, as a real one does after its checks. */
  const slowCreate = (owner: string, externalId: string | null = null) => async () => {
    await new Promise((r) => setTimeout(r, 3));
    return add(owner, 'pending', externalId);
  };
  return { repositories, admission, add, slowCreate };
}

async function outcomes(calls: Array<Promise<unknown>>) {
  const settled = await Promise.allSettled(calls);
  for (const s of settled) if (s.status === 'rejected') assert.ok(s.reason instanceof TooManyRequests, String(s.reason));
  return { admitted: settled.filter((s) => s.status === 'fulfilled').length, refused: settled.filter((s) => s.status === 'rejected').length };
}

for (const backend of backends) describe(`TaskAdmission over ${backend.name}`, () => {
  it('an owner may have `activeTasksPerOwner` pending or processing: a burst of 30 with a limit of 3 admits exactly 3', async () => {
    const { admission, slowCreate, repositories } = await setup(backend, { activeTasksPerOwner: 3, queuedTasks: 0 });
    assert.deepEqual(await outcomes(Array.from({ length: 30 }, () => admission.admit('burst', undefined, slowCreate('burst')))), { admitted: 3, refused: 27 });
    assert.equal(await repositories.tasks.countActive('burst'), 3);
  });

  it('finished tasks and other owners\' tasks do not count; the refusal is 429 014001401 with Retry-After 5 and says the numbers', async () => {
    const { admission, add, slowCreate } = await setup(backend, { activeTasksPerOwner: 2, queuedTasks: 0 });
    await add('mixed', 'completed');
    await add('mixed', 'failed');
    await add('mixed', 'processing');
    await add('neighbour', 'pending');
    await add('neighbour', 'pending');
    await admission.admit('mixed', undefined, slowCreate('mixed'));
    await assert.rejects(admission.admit('mixed', undefined, slowCreate('mixed')), (e) => {
      assert.ok(e instanceof TooManyRequests);
      assert.equal(e.code, '014001401');
      assert.equal(e.retryAfterSeconds, 5);
      assert.match(e.message, /concurrency limit: 2 tasks of this API key's owner are pending or processing, the limit is 2/);
      return true;
    });
    await assert.rejects(admission.admit('neighbour', undefined, slowCreate('neighbour')), TooManyRequests);
    await admission.admit('newcomer', undefined, slowCreate('newcomer'));
  });

  it('a task that finishes makes room again', async () => {
    const { admission, slowCreate, repositories } = await setup(backend, { activeTasksPerOwner: 1, queuedTasks: 0 });
    const first = await admission.admit('o', undefined, slowCreate('o'));
    await assert.rejects(admission.admit('o', undefined, slowCreate('o')), TooManyRequests);
    await repositories.tasks.claim(first, ['pending'], { process: 'test', now: 1 });
    await assert.rejects(admission.admit('o', undefined, slowCreate('o')), TooManyRequests, 'processing still counts');
    await repositories.tasks.end(first, { status: 'completed', completed_at: 2 }, { from: ['processing'] });
    await admission.admit('o', undefined, slowCreate('o'));
  });

  it('the queue limit counts pending tasks of every owner (Retry-After 10); processing ones do not wait', async () => {
    const { admission, add, slowCreate } = await setup(backend, { activeTasksPerOwner: 0, queuedTasks: 4 });
    await add('a', 'pending');
    await add('b', 'processing');
    await add('c', 'pending');
    // 10 at once from one owner: exactly the 2 places left
    assert.deepEqual(await outcomes(Array.from({ length: 10 }, () => admission.admit('filler', undefined, slowCreate('filler')))), { admitted: 2, refused: 8 });
    await assert.rejects(admission.admit('late', undefined, slowCreate('late')), (e) => {
      assert.ok(e instanceof TooManyRequests);
      assert.equal(e.retryAfterSeconds, 10);
      assert.match(e.message, /the queue is full: 4 tasks are waiting, the limit is 4/);
      return true;
    });
  });

  it('a replayed external_task_id is let through at the limit (it creates nothing); a new one, or a replay of another owner\'s id, is not', async () => {
    const { admission, slowCreate } = await setup(backend, { activeTasksPerOwner: 1, queuedTasks: 0 });
    await admission.admit('replayer', 'ext-1', slowCreate('replayer', 'ext-1'));
    let replayed = false;
    await admission.admit('replayer', 'ext-1', async () => {
      replayed = true;
    });
    assert.ok(replayed);
    await assert.rejects(admission.admit('replayer', 'ext-2', slowCreate('replayer', 'ext-2')), TooManyRequests);
    await assert.rejects(admission.admit('replayer', '', slowCreate('replayer')), TooManyRequests, 'an empty id is no replay');
    const other = await setup(backend, { activeTasksPerOwner: 1, queuedTasks: 0 });
    await other.add('owner-a', 'pending', 'shared');
    await other.add('owner-b', 'pending');
    await assert.rejects(other.admission.admit('owner-b', 'shared', other.slowCreate('owner-b', 'shared')), TooManyRequests);
  });

  it('0 is no limit', async () => {
    const { admission, slowCreate } = await setup(backend, { activeTasksPerOwner: 0, queuedTasks: 0 });
    assert.deepEqual(await outcomes(Array.from({ length: 12 }, () => admission.admit('free', undefined, slowCreate('free')))), { admitted: 12, refused: 0 });
  });

  it('one owner\'s creates run one at a time, a failed one does not stop the next, and other owners do not wait', async () => {
    const { admission } = await setup(backend, { activeTasksPerOwner: 0, queuedTasks: 0 });
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = admission.admit('o', undefined, async () => {
      order.push('o1 start');
      await held;
      order.push('o1 end');
      throw new Error('the create failed');
    });
    const second = admission.admit('o', undefined, async () => void order.push('o2'));
    await admission.admit('p', undefined, async () => void order.push('p1'));
    assert.deepEqual(order, ['o1 start', 'p1'], 'the other owner went ahead; the owner\'s second create waits');
    release();
    await assert.rejects(first, /the create failed/);
    await second;
    assert.deepEqual(order, ['o1 start', 'p1', 'o1 end', 'o2']);
  });
});
