import { hostname } from 'node:os';

/** One structured log line about a dependency (pino's shape, as the API's request log). */
export type HealthLog = (level: 'error' | 'warn' | 'info', fields: Record<string, unknown>, msg: string) => void;

const LEVELS = { error: 50, warn: 40, info: 30 } as const;
const THRESHOLD: Record<string, number> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 };

/**
 * JSON lines on stdout, filtered by LOG_LEVEL (default info): the same shape the API's request
 * log has, so a worker (which has no HTTP log) reports outages the same way.
 */
export function jsonLineLog(level = process.env.LOG_LEVEL ?? 'info'): HealthLog {
  const min = level === 'silent' ? Infinity : (THRESHOLD[level] ?? 30);
  const host = hostname();
  return (lvl, fields, msg) => {
    if (LEVELS[lvl] < min) return;
    process.stdout.write(`${JSON.stringify({ level: LEVELS[lvl], time: Date.now(), pid: process.pid, hostname: host, ...fields, msg })}\n`);
  };
}

/** What a log line keeps of an error: its kind, code and message; never a stack. */
export const errorFields = (e: unknown) => {
  const err = e as { name?: string; code?: unknown; message?: string };
  return { type: err?.name ?? typeof e, ...(err?.code !== undefined ? { code: String(err.code) } : {}), message: err?.message ?? String(e) };
};

/**
 * Whether a dependency (the database, Redis) can be reached, as the calls to it (or a
 * connection's events) tell: the first failure of an outage is logged, and the first success
 * after it, so an outage is two log lines per process whatever the traffic. While it is down,
 * `probe` (if given) is tried every `probeEveryMs` (2 s), so the recovery is noticed even when
 * nothing else calls.
 */
export class DependencyHealth {
  private downSince?: number;
  private probeTimer?: NodeJS.Timeout;

  constructor(
    readonly name: string,
    private readonly log: HealthLog,
    private readonly opts: { probe?: () => Promise<unknown>; probeEveryMs?: number; /** What the process does meanwhile, for the log line. */ meanwhile?: string } = {},
  ) {}

  get available(): boolean {
    return this.downSince === undefined;
  }

  /** A call failed because the dependency could not be reached. */
  failed(err: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    const { probe, probeEveryMs = 2000, meanwhile } = this.opts;
    this.log('error', { dependency: this.name, err: errorFields(err) }, `${this.name} unavailable${meanwhile ? `: ${meanwhile}` : ''}`);
    if (probe) {
      this.probeTimer = setInterval(() => void probe().then(() => this.succeeded(), () => undefined), probeEveryMs);
      this.probeTimer.unref();
    }
  }

  /** A call went through. */
  succeeded(): void {
    if (this.downSince === undefined) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = undefined;
    clearInterval(this.probeTimer);
    this.log('info', { dependency: this.name, downMs }, `${this.name} available again after ${(downMs / 1000).toFixed(1)} s`);
  }

  close(): void {
    clearInterval(this.probeTimer);
  }
}
