import { Redis } from 'ioredis';

/** Told about a connection's losses and recoveries (see DependencyHealth). */
export interface RedisWatcher {
  failed(err: unknown): void;
  succeeded(): void;
}

const checkUrl = (url: string) => {
  if (!/^rediss?:\/\//.test(url)) throw new Error(`KIRIN_REDIS_URL must start with redis:// or rediss:// (got "${url.replace(/:[^:@/]*@/, ':…@')}")`);
};

/** Without an 'error' listener, ioredis prints each failed reconnect's stack to stderr. */
const watch = (redis: Redis, watcher?: RedisWatcher) => {
  redis.on('error', (e) => watcher?.failed(e));
  redis.on('ready', () => watcher?.succeeded());
  return redis;
};

/**
 * A Redis connection for BullMQ. Commands wait for a lost connection to come back
 * (maxRetriesPerRequest: null, as BullMQ's blocking worker connections need).
 */
export function connectRedis(url: string, watcher?: RedisWatcher): Redis {
  checkUrl(url);
  return watch(new Redis(url, { maxRetriesPerRequest: null }), watcher);
}

/**
 * A Redis connection for calls that must not wait for Redis (the rate limiter's counters): while
 * it is away a command fails at once (no offline queue), and one that gets no answer fails after
 * a second.
 */
export function connectRedisFailFast(url: string, watcher?: RedisWatcher): Redis {
  checkUrl(url);
  return watch(new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000, connectTimeout: 2000 }), watcher);
}
