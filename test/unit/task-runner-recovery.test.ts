import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { migrate, openSqlite, type Db } from '../../src/storage/database.ts';
import { DiskSpace, isDiskFull } from '../../src/storage/disk-space.ts';
import { kyselyRepositories } from '../../src/storage/repositories/index.ts';
import type { ErrorPolicy, Task } from '../../src/tasks/task-executor.ts';
import { DISK_FULL_PAUSE_MS, TaskRunner } from '../../src/tasks/task-runner.ts';
import type { AnalysisThreadPool } from '../../src/tasks/analysis-thread-pool.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { waitFor } from '../helpers/service.ts';

/**
 * The embedded runner never leaves a task `processing` with nothing running it: a run that ends
 * without an end state puts its task back, a full disk is retried after a pause (not failed), a
 * periodic check finds stuck tasks, and a drain lets running work finish or puts it back.
 * The executor here is a scripted one (the real one needs models and videos): each test says
 * what a run does.
 */

type Script = (task: Task, signal: AbortSignal, policy: ErrorPolicy, n: number) => Promise<void>;

describe('task runner: recovery and drain', () => {
  let tmp: TempDir;
  let db: Db;
  let seq = 0;
  const runners: TaskRunner[] = [];

  before(async () => {
    tmp = await makeTempDir('kirin-runner-');
    db = openSqlite(tmp.file('kirin.db'));
    await migrate(db);
  });
  after(async () => {
    for (const r of runners) await r.stop();
    await db?.destroy();
    await tmp?.cleanup();
  });

  const end = (id: string, status: 'completed' | 'failed') =>
    db.updateTable('tasks').set({ status, completed_at: Date.now() }).where('id', '=', id).where('status', '=', 'processing').execute();

  async function addTask(status: 'pending' | 'processing' = 'pending', startedAt: number | null = null): Promise<string> {
    const id = `task_${++seq}_${Date.now()}`;
    await db
      .insertInto('tasks')
      .values({ id, owner: 'o', model: 'm', external_task_id: null, status, progress: 0, video_id: null, video_url: 'http://x/v.mp4', callback_url: null, created_at: Date.now() + seq, started_at: startedAt, completed_at: null, error_code: null, error_message: null, result_text: null, cost_usd: null, video_meta: null, attempts: 0, worker: null })
      .execute();
    return id;
  }
  const statusOf = async (id: string) => (await db.selectFrom('tasks').select(['status', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow());

  /** A runner whose executor claims for real and runs `script` (n: the how-manieth run of that task). */
  async function startRunner(script: Script, extra: { disk?: DiskSpace; stuckCheckMs?: number } = {}) {
    const runs = new Map<string, number>();
    const cancelled: string[] = [];
    const executor = {
      claimNext: () => kyselyRepositories(db).tasks.claimOldestPending({ process: 'test', now: Date.now() }),
      run: async (task: Task, signal: AbortSignal, policy: ErrorPolicy) => {
        const n = (runs.get(task.id) ?? 0) + 1;
        runs.set(task.id, n);
        try {
          await script(task, signal, policy, n);
        } catch (e) {
          if (policy(e) === 'retry') throw e;
          // as TaskExecutor does: the task is failed, in a write that may fail as well
          if ((e as { failedWriteFails?: boolean }).failedWriteFails) throw new Error('SQLITE_IOERR: disk I/O error');
          await end(task.id, 'failed');
        }
      },
    };
    const pool = { cancel: (id: string) => cancelled.push(id) } as unknown as AnalysisThreadPool;
    const config = { ...loadConfig({}), analysisThreads: 1, stuckCheckMs: extra.stuckCheckMs ?? 60_000 };
    const runner = new TaskRunner({ repositories: kyselyRepositories(db), config, pool, executor: executor as never, disk: extra.disk });
    runners.push(runner);
    await runner.start();
    return { runner, runs, cancelled };
  }

  it('a run whose end-state write fails puts its task back; the task runs again and ends once', async () => {
    const { runner, runs } = await startRunner(async (task, _s, _p, n) => {
      // the end-state write fails, and so does the write that would fail the task
      if (n === 1) throw Object.assign(new Error('SQLITE_IOERR: disk I/O error'), { code: 'SQLITE_IOERR', failedWriteFails: true });
      await end(task.id, 'completed');
    });
    const id = await addTask();
    runner.enqueue();
    await waitFor(async () => (await statusOf(id)).status === 'completed', 10_000, 'the task to complete');
    assert.equal(runs.get(id), 2, 'run twice: the failed write did not strand it');
    assert.equal((await statusOf(id)).attempts, 2);
    await runner.stop();
  });

  it('a task that meets a full disk goes back to pending, /readyz is told, and it is retried after a pause, not failed', async () => {
    const disk = new DiskSpace(tmp.dir, 0);
    let firstAt = 0;
    let secondAt = 0;
    const { runner, runs } = await startRunner(async (task, _s, _p, n) => {
      if (n === 1) {
        firstAt = Date.now();
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC' });
      }
      secondAt = Date.now();
      await end(task.id, 'completed');
    }, { disk });
    const id = await addTask();
    runner.enqueue();
    await waitFor(() => firstAt > 0, 5000, 'the first run');
    await waitFor(async () => (await statusOf(id)).status === 'pending', 5000, 'the task to be pending again');
    assert.equal(await disk.full(), true, 'the disk counts as full after the error');
    await waitFor(async () => (await statusOf(id)).status === 'completed', DISK_FULL_PAUSE_MS + 10_000, 'the retry to complete it');
    assert.equal(runs.get(id), 2);
    assert.ok(secondAt - firstAt >= DISK_FULL_PAUSE_MS - 50, `retried after the pause (${secondAt - firstAt} ms)`);
    await runner.stop();
  });

  it('a task left processing with nothing running it is found by the periodic check and run', async () => {
    const { runner, runs } = await startRunner(async (task) => void (await end(task.id, 'completed')), { stuckCheckMs: 200 });
    // left behind after start (start() itself resets what a crash left): a claim 1 minute old that nothing runs
    const id = await addTask('processing', Date.now() - 60_000);
    const fresh = await addTask('processing', Date.now()); // just claimed: may not be running yet, left alone
    await waitFor(async () => (await statusOf(id)).status === 'completed', 10_000, 'the stuck task to be re-run');
    assert.equal(runs.get(id), 1);
    assert.equal((await statusOf(fresh)).status, 'processing', 'a task claimed moments ago is not taken');
    await end(fresh, 'failed');
    await runner.stop();
  });

  it('drain: a run that ends within the grace period is counted finished; one still running is stopped and put back', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { runner } = await startRunner(async (task, signal) => {
      await Promise.race([slow, new Promise((_r, rej) => signal.addEventListener('abort', () => rej(signal.reason), { once: true }))]);
      await end(task.id, 'completed');
    });
    const id = await addTask();
    runner.enqueue();
    await waitFor(async () => (await statusOf(id)).status === 'processing', 5000, 'the task to start');
    setTimeout(release, 200);
    const t0 = Date.now();
    assert.deepEqual(await runner.drain(10_000), { finished: 1, putBack: 0 });
    assert.ok(Date.now() - t0 < 5000, 'the drain ended when the work did, not at the end of the grace period');
    assert.equal((await statusOf(id)).status, 'completed');
    const later = await addTask();
    runner.enqueue();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await statusOf(later)).status, 'pending', 'a drained runner takes no new task');
    await db.updateTable('tasks').set({ status: 'failed' }).where('id', '=', later).execute(); // out of the next runner's way

    const { runner: second, cancelled } = await startRunner(async (_task, signal) => {
      await new Promise((_r, rej) => signal.addEventListener('abort', () => rej(signal.reason), { once: true }));
    });
    const stuck = await addTask();
    second.enqueue();
    await waitFor(async () => (await statusOf(stuck)).status === 'processing', 5000, 'the task to start');
    const t1 = Date.now();
    assert.deepEqual(await second.drain(300), { finished: 0, putBack: 1 });
    assert.ok(Date.now() - t1 >= 290, 'the grace period was given');
    assert.equal((await statusOf(stuck)).status, 'pending', 'put back for the next start');
    assert.deepEqual(cancelled, [stuck], 'its analysis was stopped');
  });

  it('isDiskFull knows ENOSPC, EDQUOT, SQLITE_FULL, wrapped errors and a worker thread\'s message', () => {
    assert.equal(isDiskFull(Object.assign(new Error('x'), { code: 'ENOSPC' })), true);
    assert.equal(isDiskFull(Object.assign(new Error('x'), { code: 'SQLITE_FULL' })), true);
    assert.equal(isDiskFull(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'EDQUOT' }) })), true);
    assert.equal(isDiskFull(new Error('analysis failed: ENOSPC: no space left on device, open /d/f.jpg')), true);
    assert.equal(isDiskFull(new Error('database or disk is full')), true);
    assert.equal(isDiskFull(Object.assign(new Error('x'), { code: 'EACCES' })), false);
    assert.equal(isDiskFull(new Error('the space between faces')), false);
    assert.equal(isDiskFull(undefined), false);
  });
});
