/**
 * Helpers for tests against real Postgres, Redis and S3-compatible servers, whose settings come
 * from the environment as `eval "$(bash scripts/dev-services.sh start)"` exports them (CI does).
 *
 *   describe('…', { skip: scaleoutSkip }, () => {
 *     const dep = await newDeployment();          // its own database, Redis prefix and bucket prefix
 *     const api = await spawnKirin('api', dep.env);
 *     …
 *     await dep.destroy();
 *   });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type ServiceConfig } from '../../src/config.ts';
import { SCRATCH_PREFIX } from '../../src/service/backends.ts';
import { openPostgres, type Db } from '../../src/storage/database.ts';
import { S3BlobStore, parseS3Url } from '../../src/storage/s3-blobs.ts';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kirin.js');

const REQUIRED = ['KIRIN_DATABASE_URL', 'KIRIN_REDIS_URL', 'KIRIN_STORAGE_URL'] as const;
const missing = REQUIRED.filter((k) => !process.env[k]);

/** Why the scale-out tests skip (a string), or false when the servers are configured. */
export const scaleoutSkip: string | false = missing.length
  ? `no scale-out servers: ${missing.join(', ')} unset (run: eval "$(bash scripts/dev-services.sh start)")`
  : false;

export interface Deployment {
  /** The environment of a process of this deployment (scale-out settings, private URLs allowed, 1 worker). */
  env: NodeJS.ProcessEnv;
  config: ServiceConfig;
  /** Kysely on the deployment's own database. */
  db: Db;
  /** The deployment's bucket prefix, for looking at stored objects. */
  blobs: S3BlobStore;
  /** Keys of the objects stored under `under` (e.g. 'faces/'). */
  objects(under: string): Promise<string[]>;
  redis: Redis;
  destroy(): Promise<void>;
}

/**
 * A deployment of its own on the configured servers, so tests never see each other's data: a new
 * Postgres database, a Redis key prefix for the queue, and a key prefix in the bucket.
 */
export async function newDeployment(name: string): Promise<Deployment> {
  const tag = `${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}${randomBytes(4).toString('hex')}`;
  const serverUrl = new URL(process.env.KIRIN_DATABASE_URL!);
  const admin = new pg.Client({ connectionString: serverUrl.href });
  await admin.connect();
  await admin.query(`CREATE DATABASE kirin_t_${tag}`);
  await admin.end();
  const dbUrl = new URL(serverUrl.href);
  dbUrl.pathname = `/kirin_t_${tag}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KIRIN_DATABASE_URL: dbUrl.href,
    KIRIN_REDIS_PREFIX: `kt_${tag}`,
    KIRIN_STORAGE_URL: `${process.env.KIRIN_STORAGE_URL!.replace(/\/+$/, '')}/t_${tag}`,
    KIRIN_ALLOW_PRIVATE_URLS: '1',
    KIRIN_WORKERS: '1',
    KIRIN_CALLBACK_FIRST_DELAY_MS: '200',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.KIRIN_PUBLIC_URL;
  const config = loadConfig(env);
  const db = openPostgres(dbUrl.href, 4);
  const blobs = new S3BlobStore(config.storage, '/nonexistent');
  const redis = new Redis(config.queue.redisUrl, { maxRetriesPerRequest: null });
  const { prefix } = parseS3Url(config.storage.url);
  const objects = async (under: string) => {
    const r = await blobs.client.send(new ListObjectsV2Command({ Bucket: blobs.bucket, Prefix: prefix + under }));
    return (r.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
  };
  return {
    env,
    config,
    db,
    blobs,
    objects,
    redis,
    async destroy() {
      await db.destroy();
      for (const key of await objects('')) await blobs.client.send(new DeleteObjectCommand({ Bucket: blobs.bucket, Key: prefix + key }));
      blobs.close();
      const keys = await redis.keys(`${env.KIRIN_REDIS_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      const a = new pg.Client({ connectionString: serverUrl.href });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS kirin_t_${tag} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface KirinProcess {
  proc: ChildProcess;
  pid: number;
  /** The API's address (api and start only). */
  url: string;
  output(): string;
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const READY: Record<string, RegExp> = {
  api: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  start: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  worker: /worker ready/,
};

/** `node bin/kirin.js api|worker|start` with `env`; resolves once it says it is ready. */
export function spawnKirin(role: 'api' | 'worker' | 'start', env: NodeJS.ProcessEnv): Promise<KirinProcess> {
  const proc = spawn(process.execPath, [bin, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`kirin ${role} not ready within 60 s:\n${out}`)), 60_000);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      const m = READY[role].exec(out);
      if (m) {
        clearTimeout(timer);
        done({ proc, pid: proc.pid!, url: m[1] ?? '', output: () => out, exited, stop });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`kirin ${role} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Removes the S3-mode scratch folders of these (killed) processes: a SIGKILL leaves them behind. */
export function removeScratchDirs(pids: number[]): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${SCRATCH_PREFIX}(api|worker|all)-(\\d+)-\\d+$`).exec(name);
    if (m && pids.includes(Number(m[2]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** A TCP port free right now on 127.0.0.1 (for an API that must come back on the same address). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
