import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { ServiceConfig } from '../config.js';
import { LocalBlobStore, type BlobStore } from '../storage/blobs.js';
import { migrate, openDatabase, pingDatabase, type Db } from '../storage/database.js';
import { kyselyRepositories, type Repositories } from '../storage/repositories/index.js';
import { S3BlobStore } from '../storage/s3-blobs.js';
import { connectRedis, connectRedisFailFast } from '../tasks/redis.js';
import { DependencyHealth, jsonLineLog } from './dependency-health.js';
import { loadServiceSecrets, type ServiceSecrets } from './secrets.js';

/**
 * Local scratch folders when files live in S3 (uploads being checked, videos for ffmpeg):
 * `kirin-<role>-<pid>-<n>` in the OS temp folder, n counting the services this process started.
 */
export const SCRATCH_PREFIX = 'kirin-';
let scratchCount = 0;
const newScratchDir = (role: Role) => join(tmpdir(), `${SCRATCH_PREFIX}${role}-${process.pid}-${++scratchCount}`);

/** `all`: HTTP and processing in one process (npm start); `api`: HTTP only; `worker`: processing only. */
export type Role = 'all' | 'api' | 'worker';

/** The I/O a process stands on, each embedded or scale-out as configured. */
export interface Backends {
  db: Db;
  /** Every query, over `db`. */
  repositories: Repositories;
  blobs: BlobStore;
  secrets: ServiceSecrets;
  /** Set when KIRIN_REDIS_URL is: the BullMQ queue's connection. */
  redis?: Redis;
  /** Set when KIRIN_REDIS_URL is and the process serves HTTP: the rate limiter's connection, which never waits for Redis. */
  rateLimitRedis?: Redis;
  /** Whether the database, Redis (the queue) and the rate limiter's Redis can be reached; each outage is logged once, and its end. */
  health: { db: DependencyHealth; redis: DependencyHealth; rateLimits: DependencyHealth };
  close(): Promise<void>;
}

/**
 * Opens the configured backends: Postgres or SQLite (migrated), S3 or local files, Redis or none.
 * Secrets live in the database when it is Postgres (every process of a deployment shares them),
 * else in the data folder. An `all` process on local files clears the scratch folder a previous
 * run left; separate processes each get a scratch folder of their own.
 */
export async function openBackends(config: ServiceConfig, role: Role): Promise<Backends> {
  if (role !== 'all' && !config.queue.redisUrl) {
    throw new Error(`kirin ${role} runs beside other processes and needs their shared queue: set KIRIN_REDIS_URL (or use kirin start)`);
  }
  if (!config.databaseUrl || !config.storage.url) mkdirSync(config.dataDir, { recursive: true });
  const log = jsonLineLog();
  const health = {
    db: new DependencyHealth('database', log, { probe: () => pingDatabase(db) }),
    redis: new DependencyHealth('redis', log),
    // its own connection, which reconnects on its own time: its own log lines
    rateLimits: new DependencyHealth('redis for rate limits', log, { meanwhile: 'requests are not rate-limited until it is back' }),
  };
  const db = openDatabase(config, health.db);
  const cleanups: (() => Promise<void> | void)[] = [() => db.destroy(), () => health.db.close()];
  const close = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    await migrate(db);
    const repositories = kyselyRepositories(db);
    const secrets = await loadServiceSecrets(config, repositories.secrets);
    let blobs: BlobStore;
    if (config.storage.url) {
      const scratch = newScratchDir(role);
      rmSync(scratch, { recursive: true, force: true }); // left by a dead process that had this pid
      mkdirSync(scratch, { recursive: true });
      const s3 = new S3BlobStore(config.storage, scratch);
      cleanups.push(() => s3.close(), () => rmSync(scratch, { recursive: true, force: true }));
      blobs = s3;
    } else if (role === 'all') {
      blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
      rmSync(blobs.tempDir(), { recursive: true, force: true }); // half-written uploads of a previous run
      mkdirSync(blobs.tempDir(), { recursive: true });
    } else {
      const scratch = mkdtempSync(join(config.dataDir, `tmp-${role}-`));
      blobs = new LocalBlobStore(join(config.dataDir, 'blobs'), scratch);
      cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
    }
    let redis: Redis | undefined;
    let rateLimitRedis: Redis | undefined;
    // (a QUIT sent while Redis is away would wait for it to come back)
    const disconnect = (r: Redis) => async () => void (r.status === 'ready' ? await r.quit().catch(() => r.disconnect()) : r.disconnect());
    if (config.queue.redisUrl) {
      redis = connectRedis(config.queue.redisUrl, health.redis);
      cleanups.push(disconnect(redis));
      if (role !== 'worker') {
        rateLimitRedis = connectRedisFailFast(config.queue.redisUrl, health.rateLimits);
        cleanups.push(disconnect(rateLimitRedis));
      }
    }
    return { db, repositories, blobs, secrets, redis, rateLimitRedis, health, close };
  } catch (e) {
    await close();
    throw e;
  }
}
