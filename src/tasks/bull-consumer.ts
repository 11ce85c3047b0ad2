import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError, isKirinError } from '../errors.js';
import { isDatabaseUnavailable } from '../storage/db-availability.js';
import { isDiskFull } from '../storage/disk-space.js';
import type { Repositories } from '../storage/repositories/index.js';
import { QUEUE_NAME, queueOptions, type TaskJob } from './bull-queue.js';
import { processName, type ErrorPolicy, type TaskExecutor } from './task-executor.js';
import type { DrainReport } from './task-runner.js';
import type { AnalysisThreadPool } from './analysis-thread-pool.js';

export interface BullTaskConsumerDeps {
  config: ServiceConfig;
  repositories: Pick<Repositories, 'tasks'>;
  executor: TaskExecutor;
  pool: AnalysisThreadPool;
  /** Whether the database can be reached: while it cannot, no job is taken. */
  dbHealth: { readonly available: boolean };
}

/** A job put off because the database could not be reached is handed out again after this. */
export const DB_WAIT_MS = 5000;

/**
 * The queue consumer of a `kirin worker` process: takes jobs from the BullMQ queue,
 * `analysisThreads` at a time, and runs their tasks. Delivery is at least once (a job whose
 * `kirin worker` process died is handed out again by the stalled
 * check), so a job only claims its task if the task has not ended, and the task ends in one
 * status-guarded transaction (TaskExecutor): a redelivered task completes, is charged and calls
 * back once. Input failures end the task at once; other errors are retried, the last attempt
 * fails the task. A task cancelled through any API process, or ended by another delivery, is
 * noticed within a second and its analysis stopped. A job that meets a database it cannot reach
 * (or comes while it is known to be away) is put off, without using up an attempt, until it is back.
 */
export class BullTaskConsumer {
  private readonly bullWorker: Worker<TaskJob>; // BullMQ's consumer object
  private readonly running = new Map<string, AbortController>();
  private readonly inflight = new Set<Promise<void>>();
  private watchTimer?: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly d: BullTaskConsumerDeps, connection: Redis) {
    const lockMs = d.config.queue.lockMs;
    this.bullWorker = new Worker<TaskJob>(QUEUE_NAME, (job, token) => this.track(this.processOrWait(job, token)), {
      ...queueOptions(d.config, connection),
      name: processName,
      concurrency: d.config.analysisThreads,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // a job whose worker died twice in a row is retried once more before it fails for good
      maxStalledCount: 2,
      autorun: false,
    });
    this.bullWorker.on('error', () => undefined); // connection errors: ioredis reconnects
  }

  start(): void {
    void this.bullWorker.run().catch(() => undefined);
    this.watchTimer = setInterval(() => void this.stopEnded().catch(() => undefined), 1000);
  }

  /** Analyses running in this process. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Takes no new job, lets running ones finish for up to graceMs; jobs still running then are
   * put back: their tasks stay `processing` and the queue hands them out again (stalled jobs).
   */
  async close(graceMs = 30_000): Promise<DrainReport> {
    this.closing = true;
    clearInterval(this.watchTimer);
    const runningAtStop = this.running.size;
    await this.bullWorker.pause(true).catch(() => undefined);
    await Promise.race([Promise.allSettled([...this.inflight]), sleep(graceMs, undefined, { ref: false })]);
    const putBack = this.running.size;
    await this.bullWorker.close(true).catch(() => undefined);
    return { finished: Math.max(0, runningAtStop - putBack), putBack };
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    void p.catch(() => undefined).finally(() => this.inflight.delete(p));
    return p;
  }

  private async processOrWait(job: Job<TaskJob>, token: string | undefined): Promise<void> {
    try {
      if (!this.d.dbHealth.available) throw new DatabaseAway();
      await this.process(job);
    } catch (e) {
      if (!(e instanceof DatabaseAway || isDatabaseUnavailable(e) || isDiskFull(e))) throw e;
      // a passing condition, not the task's fault: it stays `processing`, no attempt is used, and
      // its next delivery claims it again
      await job.moveToDelayed(Date.now() + DB_WAIT_MS, token);
      throw new DelayedError();
    }
  }

  private async process(job: Job<TaskJob>): Promise<void> {
    const task = await this.d.executor.claim(job.data.taskId);
    if (!task) return; // ended already: cancelled, or a redelivery of work that was done
    const ac = new AbortController();
    this.running.set(task.id, ac);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const policy: ErrorPolicy = (e) => {
      if (this.closing || isDatabaseUnavailable(e) || isDiskFull(e)) return 'retry';
      if (isKirinError(e) && e.code !== ErrorCode.Internal) return 'fail'; // the input's fault: the same every time
      return lastAttempt ? 'fail' : 'retry';
    };
    try {
      await this.d.executor.run(task, ac.signal, policy);
    } finally {
      this.running.delete(task.id);
    }
  }

  /** Stops analyses whose task is no longer `processing` (cancelled, or ended by another delivery). */
  private async stopEnded(): Promise<void> {
    if (this.running.size === 0) return;
    for (const r of await this.d.repositories.tasks.statuses([...this.running.keys()])) {
      if (r.status === 'processing') continue;
      const reason = new KirinError(ErrorCode.Cancelled, `task ${r.status} elsewhere`);
      this.running.get(r.id)?.abort(reason);
      this.d.pool.cancel(r.id, reason);
    }
  }
}

class DatabaseAway extends Error {
  constructor() {
    super('the database is unavailable');
  }
}
