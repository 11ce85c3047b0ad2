import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TooManyRequests } from './too-many-requests.js';

export interface RateLimitSettings {
  /** Requests a minute per owner on every route that needs a key; 0 = no limit. */
  requestsPerMinute: number;
  /** Creates (tasks, synchronous calls, uploads) a minute per owner; 0 = no limit. */
  createsPerMinute: number;
}

/**
 * Where the counters live. Empty: in this process's memory (one API process). For several API
 * processes pass a shared store the way @fastify/rate-limit takes it, e.g. `{ redis: new Redis(url) }`.
 */
export interface RateLimitStore {
  redis?: unknown;
  /** Told when the shared store fails or answers again (see DependencyHealth). */
  health?: { failed(err: unknown): void; succeeded(): void };
}

export type LimitHook = (req: FastifyRequest) => Promise<void>;

const WINDOW_MS = 60_000;

/**
 * Fixed-window rate limits per owner (the API key's owner, so more keys buy no more calls),
 * as `onRequest` hooks to run after authentication: past the limit they throw TooManyRequests
 * (`429`, 014001401, `Retry-After` = seconds until the window resets). A shared store that fails
 * (Redis away) lets requests through unlimited rather than holding them; `store.health` hears it.
 */
export async function keyRateLimits(app: FastifyInstance, settings: RateLimitSettings, store: RateLimitStore = {}): Promise<{ requests: LimitHook; creates: LimitHook }> {
  const { health, ...where } = store;
  await app.register(rateLimit, { global: false, ...where });
  const limiter = (max: number, what: string): LimitHook => {
    if (!(max > 0)) return async () => undefined;
    const check = app.createRateLimit({ max, timeWindow: WINDOW_MS, keyGenerator: (req) => `${what}:${req.owner}` });
    return async (req) => {
      let r: Awaited<ReturnType<typeof check>>;
      try {
        r = await check(req);
      } catch (e) {
        health?.failed(e);
        return;
      }
      health?.succeeded();
      if (r.isAllowed || !r.isExceeded) return;
      const wait = Math.max(1, r.ttlInSeconds);
      throw new TooManyRequests(`rate limit: more than ${max} ${what} a minute for this API key's owner; retry in ${wait} s`, wait);
    };
  };
  return { requests: limiter(settings.requestsPerMinute, 'requests'), creates: limiter(settings.createsPerMinute, 'creates') };
}
