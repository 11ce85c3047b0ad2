import type { Repositories } from '../storage/repositories/index.js';
import { TooManyRequests } from './too-many-requests.js';

export interface AdmissionLimits {
  /** Tasks one owner may have pending or processing at once; 0 = no limit. */
  activeTasksPerOwner: number;
  /** Tasks that may wait (pending) in all, whoever owns them; 0 = no limit. */
  queuedTasks: number;
}

/** Seconds a refused client is told to wait: about how long a short analysis takes. */
const RETRY_AFTER_ACTIVE_S = 5;
const RETRY_AFTER_QUEUE_S = 10;

/**
 * Lets a new task in only while its owner has fewer than `activeTasksPerOwner` tasks pending or
 * processing and the queue holds fewer than `queuedTasks`; otherwise TooManyRequests (`429`,
 * 014001401). The creates of one owner are taken one at a time in this process, so a burst
 * cannot slip past the count between the check and the insert. Repeating an existing
 * `external_task_id` is always let through: it returns the first task and creates nothing.
 */
export class TaskAdmission {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly repositories: Pick<Repositories, 'tasks'>, private readonly limits: AdmissionLimits) {}

  admit<T>(owner: string, externalTaskId: unknown, create: () => Promise<T>): Promise<T> {
    return this.oneAtATime(owner, async () => {
      try {
        await this.check(owner);
      } catch (err) {
        // a replay creates nothing: let it through (create() returns the first task); the lookup is
        // made only here, as create() makes it anyway once the limits let a task in
        const replay = typeof externalTaskId === 'string' && externalTaskId !== '' && (await this.repositories.tasks.findByExternalId(owner, externalTaskId)) !== undefined;
        if (!replay) throw err;
      }
      return create();
    });
  }

  private async check(owner: string): Promise<void> {
    const { activeTasksPerOwner, queuedTasks } = this.limits;
    if (activeTasksPerOwner > 0) {
      const active = await this.repositories.tasks.countActive(owner);
      if (active >= activeTasksPerOwner) {
        throw new TooManyRequests(
          `concurrency limit: ${active} tasks of this API key's owner are pending or processing, the limit is ${activeTasksPerOwner}; retry when one has finished`,
          RETRY_AFTER_ACTIVE_S,
        );
      }
    }
    if (queuedTasks > 0) {
      const queued = await this.repositories.tasks.countPending();
      if (queued >= queuedTasks) {
        throw new TooManyRequests(`the queue is full: ${queued} tasks are waiting, the limit is ${queuedTasks}; retry later`, RETRY_AFTER_QUEUE_S);
      }
    }
  }

  /** Runs `fn` after every earlier call for the same owner has settled. */
  private oneAtATime<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(owner) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(owner, tail);
    void tail.then(() => {
      if (this.tails.get(owner) === tail) this.tails.delete(owner);
    });
    return run;
  }
}
