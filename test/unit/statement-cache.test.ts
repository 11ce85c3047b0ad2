import assert from 'node:assert/strict';
import test from 'node:test';
import SQLite from 'better-sqlite3';
import { withStatementCache } from '../../src/storage/database.js';

/** An in-memory database whose prepare() calls are counted. */
function countingDb() {
  const sqlite = new SQLite(':memory:');
  sqlite.exec('create table t (id integer primary key, v text)');
  let prepared = 0;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((sql: string) => (prepared++, prepare(sql))) as typeof sqlite.prepare;
  return { sqlite, prepared: () => prepared };
}

test('a statement is prepared once and reused, with fresh parameters each run', () => {
  const { sqlite, prepared } = countingDb();
  const db = withStatementCache(sqlite);
  for (let i = 0; i < 5; i++) db.prepare('insert into t (v) values (?)').run([`v${i}`]);
  const select = 'select v from t where id = ?';
  assert.deepEqual(db.prepare(select).all([2]), [{ v: 'v1' }]);
  assert.deepEqual(db.prepare(select).all([5]), [{ v: 'v4' }]);
  assert.equal(prepared(), 2);
  db.close();
});

test('the cache holds at most its size, dropping the least recently used statement', () => {
  const { sqlite, prepared } = countingDb();
  const db = withStatementCache(sqlite, 2);
  const q = (n: number) => `select ${n} as n`;
  db.prepare(q(1));
  db.prepare(q(2));
  db.prepare(q(1)); // 1 is now the most recently used
  db.prepare(q(3)); // drops 2
  assert.equal(prepared(), 3);
  db.prepare(q(1));
  assert.equal(prepared(), 3, 'statement 1 was kept');
  db.prepare(q(2));
  assert.equal(prepared(), 4, 'statement 2 was dropped and is prepared again');
  db.close();
});
