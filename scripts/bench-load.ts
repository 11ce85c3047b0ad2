// npm run bench:load — the HTTP API under load. Starts `kirin start` (embedded defaults, default
// limits, LOG_LEVEL=info) on a fresh data folder, then with autocannon:
//   1. a burst of 200 concurrent task creates from one key: every answer must be 2xx or 429;
//   2. polling at 500 requests/s (the criterion): 500 clients, each polling its task once a second,
//      started 2 ms apart, so a poll arrives every 2 ms — a steady 500 requests/s, as independent
//      pollers make it. Each client is its own autocannon run with one connection; the latency of
//      every response is collected for 10 s, after a 3 s warm-up in the same run and after a first
//      run that is not counted (this process's own first run of 500 clients is slower: measured
//      first, even the do-nothing server below had a p99 of 8 ms instead of 1). Also the same
//      percentiles inside the service (from its request log);
//   3. the same 500 requests/s in autocannon's own rate mode (`overallRate`), reported as a stress
//      figure: it sends each connection's quota back to back at the start of every second, so the
//      500 polls of a second arrive as one burst 50 deep;
//   4. the floor: a trivial Node HTTP server under both loads, so a shared machine's own latency can
//      be told from the service's.
// Tasks point at a local URL that answers 404, so they fail at once and no analysis competes for
// the CPU. Exits 1 if an answer falls outside 2xx/429, any 5xx occurs, or the steady poll's p99 is
// 20 ms or more. Settings: BENCH_RATE (500), BENCH_SECONDS (10), BENCH_KEYS (50), BENCH_WARM_UP (3 s).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { createApiKey } from '../src/storage/api-keys.js';
import { KyselyApiKeyRepository } from '../src/storage/repositories/api-key.repository.js';
import { openSqlite, sqliteFile } from '../src/storage/database.js';
import { startBenchService } from './bench-common.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  statusCodeStats: Record<string, { count: number }>;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const KEYS = Number(process.env.BENCH_KEYS ?? 50);
const STRESS_CONNECTIONS = 50;
const BURST = 200;
const P99_TARGET_MS = 20;
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP ?? 3);
const MODEL = 'kirin_identify_face';

const line = (label: string, text: string) => console.log(`${label.padEnd(8)} ${text}`);

/** A video_url target that answers 404 at once. */
async function notFoundServer(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/missing.mp4`, close: () => server.close() };
}

/** Response times (ms, sorted) of the polls the service logged between two wall-clock times. */
function pollTimesInService(logFile: string, from: number, to: number): number[] {
  const times: number[] = [];
  for (const l of readFileSync(logFile, 'utf8').split('\n')) {
    if (!l.includes('"request completed"') || !l.includes('"GET"')) continue;
    const entry = JSON.parse(l) as { time: number; responseTime: number; req?: { url?: string } };
    if (entry.time >= from && entry.time <= to && entry.req?.url?.startsWith('/model/v1/generation/')) times.push(entry.responseTime);
  }
  return times.sort((a, b) => a - b);
}

/** A do-nothing Node HTTP server in a child process (the floor of this machine). */
async function trivialServer(): Promise<{ url: string; stop(): void }> {
  const code = `require('http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end('{"ok":true}'); })` +
    `.listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

interface Target {
  url: string;
  headers?: Record<string, string>;
}

/**
 * A steady RATE requests/s: RATE clients, each one autocannon run with one connection polling once a
 * second, started 1000/RATE ms apart (autocannon's rate options send a second's quota back to back).
 * Every client runs WARM_UP_SECONDS + seconds; the latency of each response in the last `seconds`
 * (all clients started and warm) is kept, sorted, with the statuses, errors and throughput then.
 */
async function steadyPoll(target: (client: number) => Target, seconds: number) {
  const latencies: number[] = [];
  const statusCodeStats: AutocannonResult['statusCodeStats'] = {};
  let recording = false;
  const started = Array.from({ length: RATE }, (_, client) =>
    new Promise<AutocannonResult>((resolve, reject) =>
      setTimeout(() => {
        const run = autocannon({ ...target(client), connections: 1, connectionRate: 1, duration: WARM_UP_SECONDS + seconds });
        (run as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
          if (!recording) return;
          latencies.push(ms);
          (statusCodeStats[status] ??= { count: 0 }).count++;
        });
        run.then(resolve, reject);
      }, (client * 1000) / RATE),
    ),
  );
  await new Promise((r) => setTimeout(r, WARM_UP_SECONDS * 1000));
  recording = true;
  const from = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  recording = false;
  const to = Date.now();
  const results = await Promise.all(started);
  return {
    latencies: latencies.sort((a, b) => a - b),
    statusCodeStats,
    failures: results.reduce((n, r) => n + r.errors + r.timeouts, 0),
    throughput: latencies.length / ((to - from) / 1000),
    window: { from, to },
  };
}

/** Percentile q (0..1) of sorted values. */
const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const spread = (sorted: number[]) =>
  `p50 ${ms(percentile(sorted, 0.5))} ms, p90 ${ms(percentile(sorted, 0.9))} ms, p99 ${ms(percentile(sorted, 0.99))} ms, max ${ms(percentile(sorted, 1))} ms`;

type StatusCounts = AutocannonResult['statusCodeStats'];
const count = (stats: StatusCounts, pred: (status: number) => boolean) =>
  Object.entries(stats ?? {}).filter(([s]) => pred(Number(s))).reduce((n, [, v]) => n + Number(v.count), 0);
const statuses = (stats: StatusCounts) => Object.entries(stats ?? {}).map(([s, v]) => `${s} → ${v.count}`).join(', ') || 'none';

async function main(): Promise<number> {
  const missing = await notFoundServer();
  const svc = await startBenchService({ KIRIN_WORKERS: '1', LOG_LEVEL: 'info' }, { logToFile: true });
  try {
    line('bench', `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine counts)`);
    line('service', `${svc.base} (kirin start: SQLite, 1 analysis worker, LOG_LEVEL=info, default limits)`);
    const json = { 'content-type': 'application/json' };

    // 1. the burst
    const burst = await autocannon({
      url: `${svc.base}/model/v1/generation`,
      method: 'POST',
      headers: svc.auth,
      body: JSON.stringify({ model: MODEL, video_url: missing.url }),
      connections: BURST,
      amount: BURST,
      timeout: 30,
    });
    const burstOther = count(burst.statusCodeStats, (s) => !(s >= 200 && s < 300) && s !== 429) + burst.errors + burst.timeouts;
    line('burst', `${BURST} concurrent POST /model/v1/generation from one key: ${statuses(burst.statusCodeStats)}; other answers or errors: ${burstOther}`);

    // 2. polling clients: KEYS keys, each with its own task; RATE clients share them
    const db = openSqlite(sqliteFile(svc.dataDir));
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++) keys.push((await createApiKey(new KyselyApiKeyRepository(db), `bench-client-${i}`)).key);
    await db.destroy();
    const tasks: string[] = [];
    for (const key of keys) {
      const res = await fetch(`${svc.base}/model/v1/generation`, { method: 'POST', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, video_url: missing.url }) });
      if (res.status !== 200) throw new Error(`create for a poll client → ${res.status} ${await res.text()}`);
      tasks.push(((await res.json()) as { id: string }).id);
    }
    const pollTarget = (client: number): Target => ({
      url: `${svc.base}/model/v1/generation/${tasks[client % KEYS]}`,
      headers: { authorization: `Bearer ${keys[client % KEYS]}` },
    });
    await steadyPoll(pollTarget, WARM_UP_SECONDS); // a first run only warms this process up (below)
    const steady = await steadyPoll(pollTarget, SECONDS);
    const inServer = pollTimesInService(svc.logFile!, steady.window.from, steady.window.to);
    const steadyNon2xx = count(steady.statusCodeStats, (s) => s < 200 || s >= 300);
    const steady5xx = count(steady.statusCodeStats, (s) => s >= 500);
    const steadyP99 = percentile(steady.latencies, 0.99);
    line('poll', `GET /model/v1/generation/{id} at a steady ${RATE} req/s: ${RATE} clients (${KEYS} keys, a task each) polling once a second, started ${ms(1000 / RATE)} ms apart; ${SECONDS} s after a ${WARM_UP_SECONDS} s warm-up`);
    line('poll', `throughput ${steady.throughput.toFixed(1)} req/s (${steady.latencies.length} responses), latency ${spread(steady.latencies)}`);
    line('poll', `statuses ${statuses(steady.statusCodeStats)}; non-2xx ${steadyNon2xx}, 5xx ${steady5xx}, errors and timeouts ${steady.failures}`);
    line('poll', `inside the service (its log's responseTime, ${inServer.length} requests): ${spread(inServer)}`);

    // 3. the same rate as autocannon's overallRate sends it: a burst at the start of every second
    let next = 0;
    const bursty = (seconds: number) =>
      autocannon({
        url: svc.base,
        connections: STRESS_CONNECTIONS,
        overallRate: RATE,
        duration: seconds,
        requests: [
          {
            setupRequest: (req: Record<string, unknown>) => {
              const i = next++ % KEYS;
              return { ...req, method: 'GET', path: `/model/v1/generation/${tasks[i]}`, headers: { authorization: `Bearer ${keys[i]}` } };
            },
          },
        ],
      });
    await bursty(WARM_UP_SECONDS);
    const stress = await bursty(SECONDS);
    const stress5xx = count(stress.statusCodeStats, (s) => s >= 500);
    line('stress', `the same ${RATE} req/s as autocannon overallRate (${STRESS_CONNECTIONS} connections; each sends its 10 a second back to back, so a second's polls arrive at once)`);
    line('stress', `throughput ${stress.requests.average.toFixed(1)} req/s, latency p50 ${stress.latency.p50} ms, p90 ${stress.latency.p90} ms, p99 ${stress.latency.p99} ms, max ${stress.latency.max} ms; non-2xx ${stress.non2xx}, 5xx ${stress5xx}, errors ${stress.errors}, timeouts ${stress.timeouts}`);

    // 4. the floor: a do-nothing server under both loads
    const trivial = await trivialServer();
    try {
      await steadyPoll(() => ({ url: trivial.url }), WARM_UP_SECONDS);
      const f = await steadyPoll(() => ({ url: trivial.url }), SECONDS);
      line('floor', `a trivial Node HTTP server, now, steady ${RATE} req/s: latency ${spread(f.latencies)}`);
      const burstFloor = (seconds: number) => autocannon({ url: trivial.url, connections: STRESS_CONNECTIONS, overallRate: RATE, duration: seconds });
      await burstFloor(WARM_UP_SECONDS);
      const fb = await burstFloor(SECONDS);
      line('floor', `the same server, overallRate bursts: latency p50 ${fb.latency.p50} ms, p90 ${fb.latency.p90} ms, p99 ${fb.latency.p99} ms, max ${fb.latency.max} ms`);
    } finally {
      trivial.stop();
    }

    const problems = [
      ...(burstOther > 0 ? [`the burst got ${burstOther} answers other than 2xx/429`] : []),
      ...(count(burst.statusCodeStats, (s) => s >= 500) + steady5xx + stress5xx > 0 ? ['5xx answers'] : []),
      ...(steadyNon2xx + stress.non2xx > 0 ? [`${steadyNon2xx + stress.non2xx} non-2xx polls`] : []),
      ...(steady.failures + stress.errors + stress.timeouts > 0 ? ['poll errors or timeouts'] : []),
      ...(steady.throughput < RATE * 0.95 ? [`the steady poll reached only ${steady.throughput.toFixed(1)} req/s`] : []),
      ...(!(steadyP99 < P99_TARGET_MS) ? [`steady poll p99 ${ms(steadyP99)} ms is not under ${P99_TARGET_MS} ms`] : []),
    ];
    line('result', problems.length === 0 ? `OK: burst only 2xx/429, no 5xx, steady ${RATE} req/s poll p99 ${ms(steadyP99)} ms < ${P99_TARGET_MS} ms` : `FAILED: ${problems.join('; ')}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await svc.stop();
    missing.close();
  }
}

process.exitCode = await main();
