// npm run bench:load — the HTTP API under load. Starts `kirin start` (embedded defaults, default
// limits, LOG_LEVEL=info) on a fresh data folder, then with autocannon:
//   1. a burst of 200 concurrent task creates from one key: every answer must be 2xx or 429;
//   2. polling: 50 clients (each its own key and task) GET their task at 500 requests/s in all
//      for 10 s (after a 2 s warm-up): throughput, latency percentiles, non-2xx and 5xx counts,
//      and the same percentiles inside the service (from its request log);
//   3. the floor: a trivial Node HTTP server under the same load, so a shared machine's own
//      latency can be told from the service's.
// Tasks point at a local URL that answers 404, so they fail at once and no analysis competes for
// the CPU. Exits 1 if an answer falls outside 2xx/429, any 5xx occurs, or p99 is 20 ms or more.
// Settings: BENCH_RATE (500), BENCH_SECONDS (10), BENCH_CLIENTS (50).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createApiKey } from '../src/storage/api-keys.js';
import { openSqlite } from '../src/storage/database.js';
import { repoRoot } from './bench-common.js';

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
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const BURST = 200;
const P99_TARGET_MS = 20;
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

/** Server-side response times (ms) from the service's request log while `on`. */
const serverTimes = { on: false, ms: [] as number[] };

/** `kirin start` as a child process; resolves with its URL and the key it prints on first start. */
async function startService(dataDir: string): Promise<{ url: string; key: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'kirin.js'), 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KIRIN_DATA_DIR: dataDir, KIRIN_ALLOW_PRIVATE_URLS: '1', KIRIN_WORKERS: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /\b(kirin_[a-z0-9]{12}\.[A-Za-z0-9_-]{32})\b/.exec(out)?.[1];
      if (url && key) {
        // keep reading the request log (so the service never blocks on a full pipe), noting response times
        child.stdout.off('data', onData);
        let partial = '';
        child.stdout.on('data', (c: Buffer) => {
          const lines = (partial + c.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          if (!serverTimes.on) return;
          for (const l of lines) {
            const m = /"responseTime":([\d.]+)/.exec(l);
            if (m) serverTimes.ms.push(Number(m[1]));
          }
        });
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        resolve({ url, key, stop: () => (child.kill('SIGTERM'), exited) });
      } else if (out.length > 1 << 20) reject(new Error('no URL and key in the service output'));
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`kirin start exited (${code}): ${out.slice(-2000)}`)));
  });
}

/** A do-nothing Node HTTP server in a child process (the floor of this machine). */
async function trivialServer(): Promise<{ url: string; stop(): void }> {
  const code = `require('http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end('{"ok":true}'); })` +
    `.listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

const count = (r: AutocannonResult, pred: (status: number) => boolean) =>
  Object.entries(r.statusCodeStats ?? {}).filter(([s]) => pred(Number(s))).reduce((n, [, v]) => n + Number(v.count), 0);
const statuses = (r: AutocannonResult) =>
  Object.entries(r.statusCodeStats ?? {}).map(([s, v]) => `${s} → ${v.count}`).join(', ') || 'none';

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kirin-bench-load-'));
  const missing = await notFoundServer();
  const svc = await startService(dataDir);
  try {
    line('bench', `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine counts)`);
    line('service', `${svc.url} (kirin start: SQLite, 1 analysis worker, LOG_LEVEL=info, default limits)`);
    const json = { 'content-type': 'application/json' };

    // 1. the burst
    const burst = await autocannon({
      url: `${svc.url}/model/v1/generation`,
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${svc.key}` },
      body: JSON.stringify({ model: MODEL, video_url: missing.url }),
      connections: BURST,
      amount: BURST,
      timeout: 30,
    });
    const burstOther = count(burst, (s) => !(s >= 200 && s < 300) && s !== 429) + burst.errors + burst.timeouts;
    line('burst', `${BURST} concurrent POST /model/v1/generation from one key: ${statuses(burst)}; other answers or errors: ${burstOther}`);

    // 2. many clients, each its own key and task
    const db = openSqlite(join(dataDir, 'kirin.db'));
    const keys: string[] = [];
    for (let i = 0; i < CLIENTS; i++) keys.push((await createApiKey(db, `bench-client-${i}`)).key);
    await db.destroy();
    const tasks: string[] = [];
    for (const key of keys) {
      const res = await fetch(`${svc.url}/model/v1/generation`, { method: 'POST', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, video_url: missing.url }) });
      if (res.status !== 200) throw new Error(`create for a poll client → ${res.status} ${await res.text()}`);
      tasks.push(((await res.json()) as { id: string }).id);
    }
    let next = 0;
    const poll = (seconds: number) =>
      autocannon({
        url: svc.url,
        connections: CLIENTS,
        overallRate: RATE,
        duration: seconds,
        requests: [
          {
            setupRequest: (req: Record<string, unknown>) => {
              const i = next++ % CLIENTS;
              return { ...req, method: 'GET', path: `/model/v1/generation/${tasks[i]}`, headers: { authorization: `Bearer ${keys[i]}` } };
            },
          },
        ],
      });
    await poll(2); // warm-up, not counted
    serverTimes.on = true;
    const r = await poll(SECONDS);
    serverTimes.on = false;
    const inServer = serverTimes.ms.sort((a, b) => a - b);
    const pct = (q: number) => (inServer.length ? inServer[Math.min(inServer.length - 1, Math.floor(q * inServer.length))]!.toFixed(2) : '?');
    const fiveXx = count(r, (s) => s >= 500);
    line('poll', `GET /model/v1/generation/{id}: ${CLIENTS} clients (own key and task each), target ${RATE} req/s for ${SECONDS} s`);
    line('poll', `throughput ${r.requests.average.toFixed(1)} req/s (${r.requests.total} requests), latency p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`);
    line('poll', `statuses ${statuses(r)}; non-2xx ${r.non2xx}, 5xx ${fiveXx}, errors ${r.errors}, timeouts ${r.timeouts}`);
    line('poll', `inside the service (its log's responseTime, ${inServer.length} requests): p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);

    const trivial = await trivialServer();
    try {
      const floorRun = (seconds: number) => autocannon({ url: trivial.url, connections: CLIENTS, overallRate: RATE, duration: seconds });
      await floorRun(2);
      const f = await floorRun(SECONDS);
      line('floor', `a trivial Node HTTP server under the same load, now: latency p50 ${f.latency.p50} ms, p90 ${f.latency.p90} ms, p99 ${f.latency.p99} ms, max ${f.latency.max} ms`);
    } finally {
      trivial.stop();
    }

    const problems = [
      ...(burstOther > 0 ? [`the burst got ${burstOther} answers other than 2xx/429`] : []),
      ...(count(burst, (s) => s >= 500) + fiveXx > 0 ? ['5xx answers'] : []),
      ...(r.non2xx > 0 ? [`${r.non2xx} non-2xx polls`] : []),
      ...(r.latency.p99 >= P99_TARGET_MS ? [`p99 ${r.latency.p99} ms is not under ${P99_TARGET_MS} ms`] : []),
    ];
    line('result', problems.length === 0 ? `OK: burst only 2xx/429, no 5xx, poll p99 ${r.latency.p99} ms < ${P99_TARGET_MS} ms` : `FAILED: ${problems.join('; ')}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await svc.stop();
    missing.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
