import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_ANALYSIS_CONFIG, type AnalysisConfig } from './analysis/config.js';
import { DEFAULT_SAMPLING, type SamplingOptions } from './pipeline/scheduler.js';

/** The analysis engine's settings (the CLI and each analysis thread read them once, at start). */
export interface EngineConfig {
  analysis: AnalysisConfig;
  sampling: SamplingOptions;
  /** onnxruntime intra-op threads per model run. */
  modelThreads: number;
  /** Who is speaking: decode the soundtrack, run voice activity, follow lips densely while voice is heard. */
  speaking: boolean;
}

export const DEFAULT_ENGINE: EngineConfig = { analysis: DEFAULT_ANALYSIS_CONFIG, sampling: DEFAULT_SAMPLING, modelThreads: 1, speaking: true };

export function loadEngineConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const exact = env.KIRIN_EXACT_DECODE === '1';
  return {
    analysis: DEFAULT_ANALYSIS_CONFIG,
    sampling: { ...DEFAULT_SAMPLING, skipLoopFilter: !exact, skipNonReference: !exact },
    modelThreads: Math.max(1, num(env.KIRIN_MODEL_THREADS, 1)),
    speaking: env.KIRIN_SPEAKING !== '0',
  };
}

/** Everything the service reads from its environment, with the embedded defaults. */
export interface ServiceConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Public URLs of face pictures start with this (no trailing slash); '' = http://localhost:<the port it listens on>. */
  publicUrl: string;
  /** Analyses run at the same time, each in a thread of its own (KIRIN_WORKERS). */
  analysisThreads: number;
  allowPrivateUrls: boolean;
  /** The synchronous route gives up waiting after this long (the task goes on). */
  syncTimeoutMs: number;
  /** Any other route answers within this (503 if a dependency holds it up); 0 = unbounded. Uploads: counted once the body is in. */
  requestTimeoutMs: number;
  /** Sessions, face pictures, uploads and fetched videos live this long. */
  retentionMs: number;
  sweepEveryMs: number;
  /** Below this many free bytes in dataDir, creates and uploads answer 507 and /readyz says not ready. */
  minFreeBytes: number;
  /** On SIGTERM, running analyses get this long to finish; the rest go back to pending. */
  shutdownGraceMs: number;
  /** How often the embedded queue looks for tasks left `processing` with nothing running them. */
  stuckCheckMs: number;
  pricing: { unitsPerTask: string; costPerTaskUsd: string };
  callbacks: { maxAttempts: number; firstDelayMs: number; timeoutMs: number };
  /** Abuse limits (README, Security); 0 turns one off. */
  limits: {
    /** Requests a minute per owner on routes that need a key. */
    requestsPerMinute: number;
    /** Creates (tasks, synchronous calls, uploads) a minute per owner. */
    createsPerMinute: number;
    /** Tasks one owner may have pending or processing. */
    activeTasksPerOwner: number;
    /** Tasks that may be pending in all. */
    queuedTasks: number;
    /** Largest JSON request body (uploads have their own 100 MB limit). */
    bodyBytes: number;
  };
  /** postgres://… for Postgres; '' = SQLite in dataDir. */
  databaseUrl: string;
  /** The BullMQ queue (scale-out); redisUrl '' = the tasks table as the queue, in-process. */
  queue: { redisUrl: string; prefix: string; lockMs: number; attempts: number };
  /** storage.url s3://bucket[/prefix] for S3-compatible storage; '' = files under dataDir. */
  storage: S3Settings;
}

export interface S3Settings {
  url: string;
  endpoint: string;
  region: string;
  /** '' = the AWS SDK's default credential chain (AWS_* variables, instance roles, …). */
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Face pictures: the API checks the signature, then redirects to a short-lived presigned URL. */
  presign: boolean;
}

const num = (v: string | undefined, dflt: number): number => {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got "${v}"`);
  return n;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const port = num(env.PORT, 8080);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.KIRIN_DATA_DIR ?? './data'),
    publicUrl: (env.KIRIN_PUBLIC_URL ?? '').replace(/\/+$/, ''),
    analysisThreads: Math.max(1, num(env.KIRIN_WORKERS, cpus().length)),
    allowPrivateUrls: env.KIRIN_ALLOW_PRIVATE_URLS === '1',
    syncTimeoutMs: num(env.KIRIN_SYNC_TIMEOUT_MS, 300_000),
    requestTimeoutMs: num(env.KIRIN_REQUEST_TIMEOUT_MS, 30_000),
    retentionMs: num(env.KIRIN_RETENTION_HOURS, 24) * 3_600_000,
    sweepEveryMs: num(env.KIRIN_SWEEP_EVERY_MS, 600_000),
    minFreeBytes: Math.max(0, num(env.KIRIN_MIN_FREE_MB, 100)) * 1024 * 1024,
    shutdownGraceMs: Math.max(0, num(env.KIRIN_SHUTDOWN_GRACE_MS, 30_000)),
    stuckCheckMs: Math.max(100, num(env.KIRIN_STUCK_CHECK_MS, 30_000)),
    pricing: {
      unitsPerTask: env.KIRIN_UNITS_PER_TASK ?? '1',
      costPerTaskUsd: Number(num(env.KIRIN_COST_PER_TASK_USD, 0.01)).toFixed(4),
    },
    callbacks: {
      maxAttempts: num(env.KIRIN_CALLBACK_MAX_ATTEMPTS, 8),
      firstDelayMs: num(env.KIRIN_CALLBACK_FIRST_DELAY_MS, 2000),
      timeoutMs: num(env.KIRIN_CALLBACK_TIMEOUT_MS, 10_000),
    },
    limits: {
      requestsPerMinute: num(env.KIRIN_RATE_LIMIT_PER_MIN, 1200),
      createsPerMinute: num(env.KIRIN_CREATE_LIMIT_PER_MIN, 60),
      activeTasksPerOwner: num(env.KIRIN_MAX_ACTIVE_TASKS, 16),
      queuedTasks: num(env.KIRIN_MAX_QUEUED_TASKS, 1000),
      bodyBytes: num(env.KIRIN_BODY_LIMIT_BYTES, 1 << 20),
    },
    databaseUrl: env.KIRIN_DATABASE_URL ?? '',
    queue: {
      redisUrl: env.KIRIN_REDIS_URL ?? '',
      prefix: env.KIRIN_REDIS_PREFIX || 'kirin',
      lockMs: Math.max(1000, num(env.KIRIN_QUEUE_LOCK_MS, 30_000)),
      attempts: Math.max(1, num(env.KIRIN_QUEUE_ATTEMPTS, 3)),
    },
    storage: {
      url: env.KIRIN_STORAGE_URL ?? '',
      endpoint: env.KIRIN_S3_ENDPOINT ?? '',
      region: env.KIRIN_S3_REGION || 'us-east-1',
      accessKeyId: env.KIRIN_S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.KIRIN_S3_SECRET_ACCESS_KEY ?? '',
      forcePathStyle: (env.KIRIN_S3_FORCE_PATH_STYLE ?? (env.KIRIN_S3_ENDPOINT ? '1' : '0')) === '1',
      presign: env.KIRIN_S3_PRESIGN === '1',
    },
  };
}
