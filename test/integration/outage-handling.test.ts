import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { keyRateLimits } from '../../src/api/rate-limits.ts';
import { boundAnswerTime } from '../../src/api/request-deadline.ts';
import { DependencyHealth, type HealthLog } from '../../src/service/dependency-health.ts';
import { isDatabaseUnavailable } from '../../src/storage/db-availability.ts';
import { openPostgres } from '../../src/storage/database.ts';
import { connectRedisFailFast } from '../../src/tasks/redis.ts';
import { waitFor } from '../helpers/service.ts';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const recordingLog = () => {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log: HealthLog = (level, fields, msg) => lines.push({ level, msg, fields });
  return { lines, log };
};

describe('outages: what a lost database or Redis does to a process', () => {
  it('tells a lost database from a bad query', () => {
    for (const e of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })], 'both addresses'),
    ]) assert.equal(isDatabaseUnavailable(e), true, e.message);
    for (const e of [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }),
      new Error('internal error'),
      undefined,
      'ECONNREFUSED',
    ]) assert.equal(isDatabaseUnavailable(e), false, String(e));
  });

  it('logs an outage once and its end once, however many calls fail; probes while it lasts', async () => {
    const { lines, log } = recordingLog();
    let probeOk = false;
    let probes = 0;
    const health = new DependencyHealth('database', log, {
      probe: async () => {
        probes++;
        if (!probeOk) throw new Error('still down');
      },
      probeEveryMs: 20,
    });
    after(() => health.close());
    for (let i = 0; i < 50; i++) health.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', stack: 'Error\n    at secret (file.js:1:1)' }));
    assert.equal(health.available, false);
    await waitFor(() => probes >= 2, 5000, 'probes while down');
    probeOk = true;
    await waitFor(() => health.available, 5000, 'the probe to notice the recovery');
    health.succeeded();
    assert.deepEqual(lines.map((l) => [l.level, l.msg.replace(/[\d.]+ s$/, 'N s')]), [
      ['error', 'database unavailable'],
      ['info', 'database available again after N s'],
    ]);
    assert.deepEqual(lines[0].fields.err, { type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'no stack in the line');
    const after2 = probes;
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(probes, after2, 'no probing once it is back');
  });

  it('a Postgres that cannot be reached fails a query at once and is reported, without an unhandled error', async () => {
    const { lines, log } = recordingLog();
    const health = new DependencyHealth('database', log);
    const db = openPostgres(`postgres://nobody@127.0.0.1:${await closedPort()}/none`, 2, health);
    after(() => db.destroy());
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) {
      const e = await db.selectFrom('tasks').select('id').execute().then(() => undefined, (err: unknown) => err);
      assert.ok(isDatabaseUnavailable(e), String(e));
    }
    assert.ok(performance.now() - t0 < 3000, 'failed fast');
    assert.equal(lines.length, 1, 'reported once');
    assert.equal(health.available, false);
  });

  it('rate limits on an unreachable Redis let requests through at once and report it', async () => {
    const { lines, log } = recordingLog();
    const health = new DependencyHealth('redis', log);
    const redis = connectRedisFailFast(`redis://127.0.0.1:${await closedPort()}`, health);
    const app = Fastify();
    after(async () => {
      redis.disconnect();
      await app.close();
    });
    app.decorateRequest('owner', '');
    const limits = await keyRateLimits(app, { requestsPerMinute: 1, createsPerMinute: 1 }, { redis, health });
    app.get('/x', { onRequest: [async (req) => void (req.owner = 'o'), limits.requests] }, async () => ({ ok: true }));
    await app.ready();
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await app.inject({ method: 'GET', url: '/x' });
      const ms = performance.now() - t0;
      assert.equal(r.statusCode, 200, r.body); // a limit of 1 a minute would refuse the second: limits skipped
      assert.ok(ms < 3000, `answered at once, not after Redis's reconnects (${Math.round(ms)} ms)`);
    }
    assert.equal(lines.filter((l) => l.msg === 'redis unavailable').length, 1);
  });

  it('a route held up by a dependency answers 503 + Retry-After at its deadline; a slow upload body is not counted', async () => {
    const app = Fastify();
    after(() => app.close());
    boundAnswerTime(app, 300);
    app.get('/hangs', async () => new Promise(() => undefined));
    app.get('/quick', async () => ({ ok: true }));
    app.get('/longer', { config: { deadlineMs: 900 } }, async () => {
      await new Promise((r) => setTimeout(r, 600));
      return { ok: true };
    });
    app.addContentTypeParser('video/mp4', (_req, payload, done) => done(null, payload));
    app.post('/upload', { config: { deadlineAfterBody: true } }, async (req) => {
      let bytes = 0;
      for await (const chunk of req.body as AsyncIterable<Buffer>) bytes += chunk.length;
      if (req.headers['x-then-hang']) await new Promise(() => undefined);
      return { bytes };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });

    const t0 = performance.now();
    const hung = await fetch(`${base}/hangs`);
    const ms = performance.now() - t0;
    assert.equal(hung.status, 503);
    assert.equal(hung.headers.get('retry-after'), '5');
    assert.equal(((await hung.json()) as { error: { code: string } }).error.code, '014002097');
    assert.ok(ms >= 250 && ms < 2000, `at the deadline (${Math.round(ms)} ms)`);
    assert.equal((await fetch(`${base}/quick`)).status, 200);
    assert.equal((await fetch(`${base}/longer`)).status, 200, 'a route with a longer deadline of its own');

    // a body sent over 800 ms (past the 300 ms deadline) is still answered
    const slowBody = (parts: number) => new ReadableStream({
      async pull(c) {
        if (parts-- === 0) return c.close();
        await new Promise((r) => setTimeout(r, 200));
        c.enqueue(new Uint8Array(1000));
      },
    });
    const up = await fetch(`${base}/upload`, { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: slowBody(4), duplex: 'half' } as RequestInit);
    assert.equal(up.status, 200, await up.clone().text());
    assert.deepEqual(await up.json(), { bytes: 4000 });
    const stuck = await fetch(`${base}/upload`, { method: 'POST', headers: { 'content-type': 'video/mp4', 'x-then-hang': '1' }, body: slowBody(2), duplex: 'half' } as RequestInit);
    assert.equal(stuck.status, 503, 'held up after its body: the deadline applies');
  });
});
