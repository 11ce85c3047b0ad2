import { cpus } from 'node:os';
import { resolve } from 'node:path';

/** Everything the service reads from its environment, with the embedded defaults. */
export interface ServiceConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Public URLs of face pictures start with this (no trailing slash); '' = http://localhost:<the port it listens on>. */
  publicUrl: string;
  /** Analyses run at the same time (worker threads). */
  workers: number;
  allowPrivateUrls: boolean;
  /** The synchronous route gives up waiting after this long (the task goes on). */
  syncTimeoutMs: number;
  /** Sessions, face pictures, uploads and fetched videos live this long. */
  retentionMs: number;
  sweepEveryMs: number;
  pricing: { unitsPerTask: string; costPerTaskUsd: string };
  callbacks: { maxAttempts: number; firstDelayMs: number; timeoutMs: number };
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
    workers: Math.max(1, num(env.KIRIN_WORKERS, cpus().length)),
    allowPrivateUrls: env.KIRIN_ALLOW_PRIVATE_URLS === '1',
    syncTimeoutMs: num(env.KIRIN_SYNC_TIMEOUT_MS, 300_000),
    retentionMs: num(env.KIRIN_RETENTION_HOURS, 24) * 3_600_000,
    sweepEveryMs: num(env.KIRIN_SWEEP_EVERY_MS, 600_000),
    pricing: {
      unitsPerTask: env.KIRIN_UNITS_PER_TASK ?? '1',
      costPerTaskUsd: Number(num(env.KIRIN_COST_PER_TASK_USD, 0.01)).toFixed(4),
    },
    callbacks: {
      maxAttempts: num(env.KIRIN_CALLBACK_MAX_ATTEMPTS, 8),
      firstDelayMs: num(env.KIRIN_CALLBACK_FIRST_DELAY_MS, 2000),
      timeoutMs: num(env.KIRIN_CALLBACK_TIMEOUT_MS, 10_000),
    },
  };
}
