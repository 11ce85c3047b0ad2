import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { createMetrics } from '../api/metrics.js';
import { buildServer } from '../api/server.js';
import { UrlSigner } from '../api/signed-urls.js';
import { systemClock, type Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { createApiKey } from '../storage/api-keys.js';
import type { BlobStore } from '../storage/blobs.js';
import { pingDatabase, type Db } from '../storage/database.js';
import type { Repositories } from '../storage/repositories/index.js';
import { BullTaskQueue, reconcileQueue } from '../tasks/bull-queue.js';
import { BullTaskConsumer } from '../tasks/bull-consumer.js';
import { CallbackQueue } from '../tasks/callbacks.js';
import { sweepExpired } from '../tasks/retention.js';
import { processName, TaskExecutor } from '../tasks/task-executor.js';
import type { TaskQueue } from '../tasks/task-queue.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { TaskService } from '../tasks/task-service.js';
import { AnalysisThreadPool } from '../tasks/analysis-thread-pool.js';
import { DiskSpace } from '../storage/disk-space.js';
import type { DrainReport, RunnerLog } from '../tasks/task-runner.js';
import { openBackends, type Role } from './backends.js';

export interface RunningService {
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Start of the face-picture URLs it hands out. */
  publicUrl: string;
  db: Db;
  /** Every query, over `db`. */
  repositories: Repositories;
  blobs: BlobStore;
  callbackSecret: string;
  /** Runs the retention sweep now (it also runs every sweepEveryMs). */
  sweep(): Promise<unknown>;
  close(opts?: CloseOptions): Promise<void>;
}

export interface RunningWorker {
  db: Db;
  repositories: Repositories;
  blobs: BlobStore;
  close(opts?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /**
   * Running analyses get this long to finish before they are stopped and their tasks put back
   * (SIGTERM: KIRIN_SHUTDOWN_GRACE_MS); the drain is logged. Unset: stopped at once (embedded),
   * the queue consumer's own 30 s (BullMQ).
   */
  graceMs?: number;
}

/** One JSON line on stdout, as pino writes them: the log of a process without an HTTP logger. */
const stdoutLog: RunnerLog = {
  info: (obj, msg) => process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...obj, msg })}\n`),
  warn: (obj, msg) => process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, ...obj, msg })}\n`),
};

export interface StartOptions {
  clock?: Clock;
  logger?: boolean | object;
  /** Called with the key made on first start (no keys yet); it is shown once. */
  onFirstKey?: (key: string) => void;
}


/** How often an API process re-adds tasks whose queue job went missing (see reconcileQueue). */
const RECONCILE_EVERY_MS = 30_000;

/**
 * The whole service in one process (`npm start`). On embedded defaults: SQLite, local files,
 * the tasks table as the queue, in-process analysis threads; each of them is replaced by its
 * scale-out backend when configured.
 */
export function startService(config: ServiceConfig, opts: StartOptions = {}): Promise<RunningService> {
  return start(config, 'all', opts) as Promise<RunningService>;
}

/** HTTP only (`kirin api`): any number of these beside workers, on shared Postgres/Redis/S3. */
export function startApi(config: ServiceConfig, opts: StartOptions = {}): Promise<RunningService> {
  return start(config, 'api', opts) as Promise<RunningService>;
}

/** Processing only (`kirin worker`): takes tasks from the shared queue, KIRIN_WORKERS at a time. */
export function startWorker(config: ServiceConfig, opts: StartOptions = {}): Promise<RunningWorker> {
  return start(config, 'worker', opts) as Promise<RunningWorker>;
}

async function start(config: ServiceConfig, role: Role, opts: StartOptions): Promise<RunningService | RunningWorker> {
  const clock = opts.clock ?? systemClock;
  const backends = await openBackends(config, role);
  const { db, repositories, blobs, secrets, redis, health } = backends;
  const serves = role !== 'worker';
  const processes = role !== 'api';
  const timers: NodeJS.Timeout[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  /**
   * Runs `work` now, then every `everyMs` (errors of those later runs ignored), each time only while
   * this process holds the lease `name`, so one process at a time does it. A process that stops
   * hands the lease on at once, rather than when it runs out.
   */
  const leasedEvery = async (name: string, everyMs: number, work: () => Promise<unknown>) => {
    const once = async () => {
      if (await repositories.leases.take(name, processName, everyMs, clock.now())) await work();
    };
    timers.push(setInterval(() => void once().catch(() => undefined), everyMs));
    closers.push(() => repositories.leases.release(name, processName).then(() => undefined, () => undefined));
    await once();
  };
  // the HTTP logger once there is one (runner warnings, the drain line)
  let logTo: RunnerLog | undefined;
  const log: RunnerLog = { info: (o, m) => (logTo ?? stdoutLog).info(o, m), warn: (o, m) => (logTo ?? stdoutLog).warn(o, m) };
  const disk = new DiskSpace(config.dataDir, config.minFreeBytes);
  let drainWork: ((graceMs: number | undefined) => Promise<DrainReport>) | undefined;
  let draining = false;
  const close = async (closeOpts: CloseOptions = {}) => {
    draining = true;
    // first, while the API still answers: stop taking work, let running analyses finish
    if (drainWork) {
      const t0 = Date.now();
      const r = await drainWork(closeOpts.graceMs).catch(() => ({ finished: 0, putBack: 0 }));
      if (closeOpts.graceMs !== undefined) {
        log.info(
          { event: 'shutdown', finished: r.finished, put_back: r.putBack, grace_ms: closeOpts.graceMs, drain_ms: Date.now() - t0 },
          `shutdown: stopped taking work; finished ${r.finished}, put back ${r.putBack}`,
        );
      }
    }
    for (const t of timers) clearInterval(t);
    for (const c of closers.reverse()) await c();
    await backends.close();
  };

  try {
    if (serves && (await repositories.apiKeys.count()) === 0) opts.onFirstKey?.((await createApiKey(repositories.apiKeys, 'default')).key);

    // a worker hands out picture URLs of an API it does not know: KIRIN_PUBLIC_URL, else the default port's
    const signer = new UrlSigner(secrets.urlSecret, config.publicUrl || (serves ? '' : `http://localhost:${config.port}`));
    const callbacks = new CallbackQueue(repositories, config.callbacks, secrets.callbackSecret, clock, { allowPrivate: config.allowPrivateUrls });
    callbacks.start();
    closers.push(() => callbacks.stop());

    let queue: TaskQueue | undefined;
    const tasks = new TaskService(repositories, config, clock, callbacks, (id) => queue?.enqueue(id), (id) => queue?.cancelled(id));

    let active = () => 0;
    if (processes) {
      const pool = new AnalysisThreadPool(config.analysisThreads);
      closers.push(() => pool.close());
      const executor = new TaskExecutor({ repositories, config, clock, blobs, pool, signer, tasks });
      if (redis) {
        const consumer = new BullTaskConsumer({ config, repositories, executor, pool, dbHealth: health.db }, redis);
        consumer.start();
        drainWork = (graceMs) => consumer.close(graceMs);
        active = () => consumer.active;
      } else {
        const runner = new TaskRunner({ repositories, config, pool, executor, disk, log, clock });
        await runner.start();
        drainWork = (graceMs) => runner.drain(graceMs ?? 0);
        queue = runner;
        active = () => runner.active;
      }
    }

    let app: FastifyInstance | undefined;
    if (serves && redis) {
      const q = new BullTaskQueue(config, redis, (err, taskId) => app?.log.warn({ err, taskId }, 'could not queue the task now; the reconcile will'));
      closers.push(() => q.close());
      queue = q;
      // (not while Redis is away: its queue calls would wait for Redis, one more each round)
      await leasedEvery('queue-reconcile', RECONCILE_EVERY_MS, async () => health.redis.available && reconcileQueue({ repositories, queue: q, tasks, clock })).catch(() => undefined);
    }

    // retention: every process may run it; the lease lets one at a time do the work
    const sweep = () => sweepExpired(repositories, blobs, clock);
    await leasedEvery('retention', config.sweepEveryMs, sweep);

    if (!serves) return { db, repositories, blobs, close };

    const metrics = createMetrics(repositories, () => active());
    app = await buildServer({
      config, repositories, blobs, tasks, signer, clock, metrics, logger: opts.logger, disk,
      // with Redis, every API process counts against the same per-owner limits
      // (through a connection of their own that never waits for Redis: while it is away, no limits)
      rateLimitStore: backends.rateLimitRedis ? { redis: backends.rateLimitRedis, health: health.rateLimits } : undefined,
      ready: async () => {
        try {
          if (draining || (await disk.full())) return false;
          if (!health.db.available) return false;
          await pingDatabase(db);
          if (!redis) return true;
          // a ping on the queue's connection would wait for Redis: none is sent while it is known to be away
          return health.redis.available && (await Promise.race([redis.ping(), sleep(2000, 'timeout', { ref: false })])) === 'PONG';
        } catch {
          return false;
        }
      },
    });
    const server = app;
    logTo = server.log;
    closers.push(() => server.close()); // closed first: no request meets a closed queue
    const address = await server.listen({ port: config.port, host: config.host });
    const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    if (!config.publicUrl) signer.setPublicUrl(`http://localhost:${new URL(url).port}`);
    const publicUrl = config.publicUrl || `http://localhost:${new URL(url).port}`;
    return { app: server, url, publicUrl, db, repositories, blobs, sweep, callbackSecret: secrets.callbackSecret, close };
  } catch (e) {
    await close();
    throw e;
  }
}
