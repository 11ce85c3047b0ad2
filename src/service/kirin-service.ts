import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createMetrics } from '../api/metrics.js';
import { buildServer } from '../api/server.js';
import { UrlSigner } from '../api/signed-urls.js';
import { systemClock, type Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { countApiKeys, createApiKey } from '../storage/api-keys.js';
import { LocalBlobStore } from '../storage/blobs.js';
import { migrate, openSqlite, type Db } from '../storage/database.js';
import { CallbackQueue } from '../tasks/callbacks.js';
import { sweepExpired } from '../tasks/retention.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { TaskService } from '../tasks/task-service.js';
import { WorkerPool } from '../tasks/worker-pool.js';
import { loadSecrets } from './secrets.js';

export interface RunningService {
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Start of the face-picture URLs it hands out. */
  publicUrl: string;
  db: Db;
  blobs: LocalBlobStore;
  callbackSecret: string;
  /** Runs the retention sweep now (it also runs every sweepEveryMs). */
  sweep(): Promise<unknown>;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: boolean | object;
  /** Called with the key made on first start (no keys yet); it is shown once. */
  onFirstKey?: (key: string) => void;
}

export const databaseFile = (config: ServiceConfig) => join(config.dataDir, 'kirin.db');

/** The whole service on embedded defaults: SQLite, local files, in-process worker threads. */
export async function startService(config: ServiceConfig, opts: StartOptions = {}): Promise<RunningService> {
  const clock = opts.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const db = openSqlite(databaseFile(config));
  await migrate(db);
  const secrets = loadSecrets(join(config.dataDir, 'secrets.json'));
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  rmSync(blobs.tempDir(), { recursive: true, force: true }); // half-written uploads of a previous run
  mkdirSync(blobs.tempDir(), { recursive: true });
  if ((await countApiKeys(db)) === 0) opts.onFirstKey?.((await createApiKey(db, 'default')).key);

  const signer = new UrlSigner(secrets.urlSecret, config.publicUrl);
  const pool = new WorkerPool(config.workers);
  const callbacks = new CallbackQueue(db, config.callbacks, secrets.callbackSecret, clock);
  let runner: TaskRunner | undefined;
  const tasks = new TaskService(db, config, clock, callbacks, () => runner?.pump(), (taskId) => runner?.cancel(taskId));
  runner = new TaskRunner({ db, config, clock, blobs, pool, signer, tasks });
  await runner.start();
  callbacks.start();
  const sweep = () => sweepExpired(db, blobs, clock);
  await sweep();
  const sweeper = setInterval(() => void sweep().catch(() => undefined), config.sweepEveryMs);

  const metrics = createMetrics(db, () => runner?.active ?? 0);
  const app = await buildServer({
    config, db, blobs, tasks, signer, clock, metrics, logger: opts.logger,
    ready: async () => {
      try {
        await db.selectFrom('api_keys').select('id').limit(1).execute();
        return true;
      } catch {
        return false;
      }
    },
  });
  const close = async () => {
    clearInterval(sweeper);
    await app.close();
    await runner?.stop();
    callbacks.stop();
    await pool.close();
    await db.destroy();
  };
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (e) {
    await close();
    throw e;
  }
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  if (!config.publicUrl) signer.setPublicUrl(`http://localhost:${new URL(url).port}`);
  const publicUrl = config.publicUrl || `http://localhost:${new URL(url).port}`;
  return { app, url, publicUrl, db, blobs, sweep, callbackSecret: secrets.callbackSecret, close };
}
