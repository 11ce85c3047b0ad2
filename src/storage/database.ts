import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { watchedPool, type ConnectionWatcher } from './db-availability.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** Runs `work` in a transaction: a new one, or the one `db` already is (Kysely does not nest them). */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute((trx) => work(trx as unknown as Db));
}

/** One cheap query: whether the database answers (readiness, outage probes). */
export async function pingDatabase(db: Db): Promise<void> {
  await db.selectFrom('api_keys').select('id').limit(1).execute();
}

/** The embedded database: one SQLite file (WAL, so `kirin keys` can write while the server runs). */
export function openSqlite(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

/**
 * Kysely prepares every query afresh; preparing costs twice what running a small query does, and
 * the same few statements run on every request. Kysely's SQLite driver runs one query at a time, so
 * a statement is never in use twice at once. (Nothing here streams a query: a stream left unfinished
 * would keep its statement busy for the next caller.)
 */
export function withStatementCache(sqlite: SQLite.Database, size = 256): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = statements.get(sql);
      if (stmt) statements.delete(sql); // re-inserted below: the Map's order is recency
      else stmt = sqlite.prepare(sql);
      statements.set(sql, stmt);
      if (statements.size > size) statements.delete(statements.keys().next().value!);
      return stmt;
    },
  };
}

// Times and sizes are `bigint` columns, which pg returns as strings by default; they stay far
// below 2^53, so they are read as numbers, as SQLite returns them.
const INT8 = pg.types.builtins.INT8;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A database that cannot be reached answers within this (rather than whenever the OS gives up). */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Postgres (scale-out): a connection pool shared by the process. A lost server kills no process:
 * its clients' errors are heard (and told to `watcher`, default: ignored), and the next query
 * connects again.
 */
export function openPostgres(url: string, maxConnections = 10, watcher: ConnectionWatcher = { failed: () => undefined, succeeded: () => undefined }): Db {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`KIRIN_DATABASE_URL must start with postgres:// (got "${url.replace(/:[^:@/]*@/, ':…@')}")`);
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, types: typeParsers, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: watchedPool(pool, watcher) }) });
}

/** The configured database: Postgres for a postgres:// URL (its outages told to `watcher`), else SQLite under the data folder. */
export function openDatabase(config: { databaseUrl: string; dataDir: string }, watcher?: ConnectionWatcher): Db {
  return config.databaseUrl ? openPostgres(config.databaseUrl, 10, watcher) : openSqlite(sqliteFile(config.dataDir));
}

export const sqliteFile = (dataDir: string) => join(dataDir, 'kirin.db');

export async function migrate(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error ?? '')}`);
}
