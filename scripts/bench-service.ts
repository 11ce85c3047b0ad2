// npm run bench:service [DIR] — starts the service (`kirin start`, embedded defaults, a temporary
// data folder), serves every video of DIR (default ../shared/bench/public) from a local static
// server, submits them all by video_url, polls, saves the task objects in .bench-out/service and
// prints the benchmark's score summary.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseName, benchSet, repoRoot as root } from './bench-common.js';

const { dir, out, videos, score } = benchSet('service', process.argv[2]);

// the videos, served like any web host would
const files = createServer((req, res) => {
  const name = decodeURIComponent((req.url ?? '/').slice(1));
  const path = join(dir, name);
  if (name.includes('/') || !existsSync(path)) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': statSync(path).size });
  createReadStream(path).pipe(res);
});
await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
const filesPort = (files.address() as { port: number }).port;

// the service, as `npm start` runs it
const dataDir = mkdtempSync(join(tmpdir(), 'kirin-bench-'));
const server = spawn(process.execPath, [join(root, 'bin', 'kirin.js'), 'start'], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KIRIN_DATA_DIR: dataDir, KIRIN_ALLOW_PRIVATE_URLS: '1', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let banner = '';
const { key, base } = await new Promise<{ key: string; base: string }>((res, rej) => {
  server.stdout!.on('data', (b: Buffer) => {
    banner += b.toString();
    const k = /kirin_[a-z0-9]{12}\.[A-Za-z0-9_-]{32}/.exec(banner);
    const u = /listening on (http:\/\/[0-9.:]+)/.exec(banner);
    if (k && u) res({ key: k[0], base: u[1] });
  });
  server.on('exit', (c) => rej(new Error(`service exited (${c})`)));
});
const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

const t0 = performance.now();
const ids = new Map<string, string>();
for (const v of videos) {
  const r = await fetch(`${base}/model/v1/generation`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model: 'kirin_identify_face', video_url: `http://127.0.0.1:${filesPort}/${encodeURIComponent(v)}`, external_task_id: v }),
  });
  const task = (await r.json()) as { id: string };
  ids.set(v, task.id);
}
const pending = new Set(videos);
while (pending.size) {
  await new Promise((r) => setTimeout(r, 500));
  for (const v of [...pending]) {
    const task = (await (await fetch(`${base}/model/v1/generation/${ids.get(v)}`, { headers: auth })).json()) as { status: string; error?: { code: string } };
    if (task.status !== 'completed' && task.status !== 'failed') continue;
    pending.delete(v);
    writeFileSync(join(out, `${baseName(v)}.json`), JSON.stringify(task, null, 2));
    console.log(`${v}: ${task.status}${task.error ? ` ${task.error.code}` : ''} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
console.log(`${videos.length} videos through the API in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
server.kill('SIGTERM');
files.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(score());
