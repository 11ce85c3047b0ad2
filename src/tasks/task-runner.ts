import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError } from '../errors.js';
import type { Db } from '../storage/database.js';
import type { Task, TaskExecutor } from './task-executor.js';
import type { TaskQueue } from './task-queue.js';
import type { WorkerPool } from './worker-pool.js';

export interface RunnerDeps {
  db: Db;
  config: ServiceConfig;
  pool: WorkerPool;
  executor: TaskExecutor;
}

/**
 * The embedded queue: tasks wait in the database as `pending`; up to `workers` of them are
 * claimed at a time and processed. On start, tasks left `processing` by a crash go back to
 * `pending` (so only one process may run this queue on a database). A task finishes in one
 * transaction guarded by `status = 'processing'` (see TaskExecutor), so a task that was cancelled
 * meanwhile, or finished twice, is neither overwritten nor charged twice.
 */
export class TaskRunner implements TaskQueue {
  private running = new Map<string, AbortController>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private pumping = false;

  constructor(private readonly d: RunnerDeps) {}

  async start(): Promise<void> {
    await this.d.db.updateTable('tasks').set({ status: 'pending', progress: 0 }).where('status', '=', 'processing').execute();
    this.timer = setInterval(() => this.pump(), 1000);
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const ac of this.running.values()) ac.abort(new Error('shutting down'));
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
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void (async () => {
      try {
        while (!this.stopped && this.running.size < this.d.config.workers) {
          const task = await this.claim();
          if (!task) break;
          const ac = new AbortController();
          this.running.set(task.id, ac);
          // shutting down: the task stays `processing` and is redone on restart
          void this.d.executor
            .run(task, ac.signal, () => (this.stopped ? 'retry' : 'fail'))
            .catch(() => undefined)
            .finally(() => {
              this.running.delete(task.id);
              this.pump();
            });
        }
      } finally {
        this.pumping = false;
      }
    })();
  }

  private async claim(): Promise<Task | undefined> {
    return this.d.db.transaction().execute(async (trx) => {
      const next = await trx.selectFrom('tasks').select('id').where('status', '=', 'pending').orderBy('created_at').limit(1).executeTakeFirst();
      return next && this.d.executor.claim(next.id, { db: trx as unknown as Db, from: ['pending'] });
    });
  }
}
