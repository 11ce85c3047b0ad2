import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ. Commands wait for a lost connection to come back
 * (maxRetriesPerRequest: null, as BullMQ's blocking worker connections need).
 */
export function connectRedis(url: string): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new Error(`KIRIN_REDIS_URL must start with redis:// or rediss:// (got "${url.replace(/:[^:@/]*@/, ':…@')}")`);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  // reconnects on its own; without a listener a lost connection would crash the process
  redis.on('error', () => undefined);
  return redis;
}
