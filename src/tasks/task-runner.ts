import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError } from '../errors.js';
import type { Repositories } from '../storage/repositories/index.js';
import { isDiskFull, type DiskSpace } from '../storage/disk-space.js';
import type { Task, TaskExecutor } from './task-executor.js';
import type { TaskQueue } from './task-queue.js';
import type { AnalysisThreadPool } from './analysis-thread-pool.js';

/** pino's shape, so the service's logger fits; the runner logs only what an operator acts on. */
export interface RunnerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RunnerDeps {
  repositories: Pick<Repositories, 'tasks'>;
  config: ServiceConfig;
  pool: AnalysisThreadPool;
  executor: Pick<TaskExecutor, 'claimNext' | 'run'>;
  /** Told about full-disk errors (for /readyz and the 507 answers). */
  disk?: DiskSpace;
  /** The clock the stuck check reads (default: the system's; claims are stamped by the executor's). */
  clock?: Clock;
  log?: RunnerLog;
}

/** What a drain did: analyses that ended within the grace period, and tasks put back to pending. */
export interface DrainReport {
  finished: number;
  putBack: number;
}

/** After a task met a full disk, no task is claimed for this long (the next one would meet it too). */
export const DISK_FULL_PAUSE_MS = 5000;
/** A task claimed this recently may not be in `running` yet: the stuck check leaves it alone. */
const CLAIM_SETTLE_MS = 10_000;

/**
 * The embedded queue: tasks wait in the database as `pending`; up to `analysisThreads` of them are
 * claimed at a time and processed. On start, tasks left `processing` by a crash go back to
 * `pending` (so only one process may run this queue on a database). A task finishes in one
 * transaction guarded by `status = 'processing'` (see TaskExecutor), so a task that was cancelled
 * meanwhile, or finished twice, is neither overwritten nor charged twice.
 *
 * A run that does not end its task (a full disk, a stop, a final write that failed) puts the
 * task back to `pending`; should even that write fail, a periodic check finds tasks
 * `processing` that nothing here runs, and puts them back.
 */
export class TaskRunner implements TaskQueue {
  private running = new Map<string, AbortController>();
  private runs = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stuckTimer?: NodeJS.Timeout;
  private stopped = false;
  private pumping = false;
  private pausedUntil = 0;
  private drained: DrainReport = { finished: 0, putBack: 0 };

  constructor(private readonly d: RunnerDeps) {}

  async start(): Promise<void> {
    await this.d.repositories.tasks.putBack();
    this.timer = setInterval(() => this.pump(), 1000);
    this.stuckTimer = setInterval(() => void this.recoverStuck().catch(() => undefined), this.d.config.stuckCheckMs);
    this.pump();
  }

  /** Stops at once: running analyses are stopped and their tasks put back to pending. */
  async stop(): Promise<void> {
    await this.drain(0);
  }

  /**
   * Takes no new task, lets running analyses finish for up to `graceMs`, then stops the rest and
   * puts their tasks back to `pending` for the next start.
   */
  async drain(graceMs: number): Promise<DrainReport> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.stuckTimer);
    const settled = () => Promise.allSettled([...this.runs]).then(() => undefined);
    if (graceMs > 0 && this.runs.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    const reason = new Error('shutting down');
    for (const [taskId, ac] of this.running) {
      ac.abort(reason);
      this.d.pool.cancel(taskId, reason);
    }
    await settled();
    return { ...this.drained };
  }

  /** Number of tasks being processed right now. */
  get active(): number {
    return this.running.size;
  }

  enqueue(): void {
    this.pump();
  }

  cancelled(taskId: string): void {
    const ac = this.running.get(taskId);
    if (!ac) return;
    const reason = new KirinError(ErrorCode.Cancelled, 'cancelled by its owner');
    ac.abort(reason);
    this.d.pool.cancel(taskId, reason);
  }

  /** Claims pending tasks while there is room. */
  pump(): void {
    if (this.pumping || this.stopped || Date.now() < this.pausedUntil) return;
    this.pumping = true;
    void (async () => {
      try {
        while (!this.stopped && this.running.size < this.d.config.analysisThreads && Date.now() >= this.pausedUntil) {
          const task = await this.claim();
          if (!task) break;
          this.launch(task);
        }
      } catch (err) {
        if (isDiskFull(err)) this.diskFull(undefined, err);
      } finally {
        this.pumping = false;
      }
    })();
  }

  private launch(task: Task): void {
    const ac = new AbortController();
    this.running.set(task.id, ac);
    // stopped (shutting down) or the disk full: the task is not failed, it goes back to pending
    const policy = (e: unknown) => (ac.signal.aborted || isDiskFull(e) ? 'retry' : 'fail');
    const run = this.d.executor
      .run(task, ac.signal, policy)
      .then(
        () => {
          if (this.stopped) this.drained.finished++;
        },
        (err: unknown) => this.putBack(task.id, err),
      )
      .finally(() => {
        this.running.delete(task.id);
        this.runs.delete(run);
        this.pump();
      });
    this.runs.add(run);
  }

  /** A run ended without ending its task: the task goes back to pending (the stuck check retries this write if it fails). */
  private async putBack(taskId: string, err: unknown): Promise<void> {
    if (isDiskFull(err)) this.diskFull(taskId, err);
    else if (!this.stopped) this.d.log?.warn({ taskId, err: describe(err) }, 'task run ended without an end state; put back to pending');
    try {
      await this.requeue([taskId]);
      if (this.stopped) this.drained.putBack++;
    } catch (e) {
      this.d.log?.warn({ taskId, err: describe(e) }, 'could not put the task back to pending; the stuck-task check will');
    }
  }

  private diskFull(taskId: string | undefined, err: unknown): void {
    this.d.disk?.noteFull();
    this.pausedUntil = Date.now() + DISK_FULL_PAUSE_MS;
    this.d.log?.warn({ taskId, err: describe(err), retryInMs: DISK_FULL_PAUSE_MS }, 'disk full: the task goes back to pending and is retried later');
  }

  private requeue(ids: string[]): Promise<void> {
    return this.d.repositories.tasks.putBack(ids);
  }

  /**
   * Puts back tasks left `processing` that no analysis of this process runs (the only process
   * running this queue): a run whose final write and put-back both failed, for instance.
   */
  async recoverStuck(): Promise<number> {
    if (this.stopped) return 0;
    const processing = await this.d.repositories.tasks.processingSince((this.d.clock?.now() ?? Date.now()) - CLAIM_SETTLE_MS);
    const stuck = processing.filter((id) => !this.running.has(id));
    if (stuck.length === 0) return 0;
    await this.requeue(stuck);
    this.d.log?.warn({ taskIds: stuck }, `found ${stuck.length} task(s) processing with nothing running them; put back to pending`);
    this.pump();
    return stuck.length;
  }

  private claim(): Promise<Task | undefined> {
    return this.d.executor.claimNext();
  }
}

function describe(err: unknown): { type: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string; code?: unknown };
  return { type: e?.name ?? typeof err, message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}
