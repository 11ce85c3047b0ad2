import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Told whether calls to the database reach it (see DependencyHealth). */
export interface ConnectionWatcher {
  failed(err: unknown): void;
  succeeded(): void;
}

/** Node's errors for a server that cannot be reached or dropped the connection. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** pg's own errors for a connection lost or never made (they carry no code). */
const PG_CONNECTION_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended|connection is closed/i;

/**
 * Whether `e` says the database could not be reached, rather than that the query was wrong:
 * a network error, pg's lost-connection errors, SQLSTATE class 08 (connection exception) or
 * 57P01–57P05 (server shutting down, restarting, not accepting connections yet).
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!err || typeof err !== 'object') return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[1-5]$/.test(code)) return true;
  if (typeof err.message === 'string' && PG_CONNECTION_MESSAGES.test(err.message)) return true;
  // a host name that resolves to several addresses fails with an AggregateError of each attempt
  return Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every(isDatabaseUnavailable);
}

/**
 * The pool as Kysely takes it, reporting each connection attempt and query to `watcher`. A client
 * whose query lost its connection is handed back with the error, so the pool drops it instead of
 * lending it again.
 */
export function watchedPool(pool: pg.Pool, watcher: ConnectionWatcher): PostgresPool {
  // pg emits 'error' on a client whose server went away; unheard, that would end the process.
  // Idle clients are heard by the pool ('error' below), checked-out ones by their own listener.
  pool.on('connect', (client) => client.on('error', (e) => watcher.failed(e)));
  pool.on('error', (e) => watcher.failed(e));
  const report = (e: unknown) => {
    if (isDatabaseUnavailable(e)) watcher.failed(e);
  };
  return {
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        report(e);
        throw e;
      }
      let lost: Error | undefined;
      return {
        query: ((sqlOrCursor: string, params?: unknown[]) => {
          // a cursor (streamed query) is passed through as is: nothing here streams
          if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as never);
          return client.query(sqlOrCursor, params).then(
            (r) => {
              watcher.succeeded();
              return r;
            },
            (e: Error) => {
              if (isDatabaseUnavailable(e)) {
                lost = e;
                watcher.failed(e);
              }
              throw e;
            },
          );
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(lost),
      };
    },
    end: () => pool.end(),
  };
}
