import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode } from '../errors.js';
import type { Repositories } from '../storage/repositories/index.js';
import type { TaskQueue } from './task-queue.js';
import type { TaskService } from './task-service.js';

export const QUEUE_NAME = 'identify';

export interface TaskJob {
  taskId: string;
}

/** The queue's options shared by producers and workers: where its keys live in Redis. */
export const queueOptions = (config: ServiceConfig, connection: Redis) => ({ connection, prefix: config.queue.prefix });

/**
 * The scale-out queue (producer side): one BullMQ job per task, with the task id as the job id,
 * so adding a task twice while its job exists is a no-op. Jobs are retried with backoff
 * (KIRIN_QUEUE_ATTEMPTS) and recovered from dead workers by BullMQ's stalled-job check.
 */
export class BullTaskQueue implements TaskQueue {
  readonly queue: Queue<TaskJob>;

  constructor(
    config: ServiceConfig,
    connection: Redis,
    private readonly onError: (e: unknown, taskId: string) => void = () => undefined,
  ) {
    this.queue = new Queue<TaskJob>(QUEUE_NAME, {
      ...queueOptions(config, connection),
      defaultJobOptions: {
        attempts: config.queue.attempts,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    // its connection's errors: logged once per outage by the connection's watcher (connectRedis);
    // unheard, BullMQ would print each one's stack
    this.queue.on('error', () => undefined);
  }

  /** Adds the task's job; a failure is only reported: the reconciler adds it later. */
  enqueue(taskId: string): void {
    void this.add(taskId).catch((e) => this.onError(e, taskId));
  }

  async add(taskId: string): Promise<void> {
    await this.queue.add(QUEUE_NAME, { taskId }, { jobId: taskId });
  }

  /** Workers see a cancelled task's status and stop it; nothing to do here. */
  cancelled(): void {}

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * Repairs what a crash between the database and Redis can leave: a task stored but whose job was
 * never added (an API process died right after the insert, or Redis lost its data) gets its job;
 * a task whose job failed for good (out of attempts, or its workers kept dying) is failed with an
 * internal error, so no task waits forever. Runs in API processes, one at a time (a lease).
 */
export async function reconcileQueue(d: { repositories: Pick<Repositories, 'tasks'>; queue: BullTaskQueue; tasks: TaskService; clock: Clock }, limit = 500): Promise<{ added: number; failed: number }> {
  let added = 0;
  let failed = 0;
  for (const id of await d.repositories.tasks.unfinished(limit)) {
    const job = await d.queue.queue.getJob(id);
    if (!job) {
      await d.queue.add(id);
      added++;
    } else if (await job.isFailed()) {
      const ended = await d.tasks.end(
        id,
        { status: 'failed', error_code: ErrorCode.Internal, error_message: `internal error: processing gave up (${job.failedReason || 'no reason given'})`, completed_at: d.clock.now() },
        { from: ['pending', 'processing'] },
      );
      if (ended) failed++;
    }
  }
  return { added, failed };
}
