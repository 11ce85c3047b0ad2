import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ffmpegPath } from '../src/media/binaries.js';

export const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..');

export interface BenchSet {
  /** Folder of NAME.mp4|mov with NAME.truth.json. */
  dir: string;
  videos: string[];
  /** Fresh output folder .bench-out/<name>. */
  out: string;
  /** Runs the benchmark's score.mjs over `out`, prints its lines, returns its exit code. */
  score(): number;
}

/** The benchmark videos (DIR, default ../shared/bench/public) and the scorer next to them. */
export function benchSet(name: string, dirArg: string | undefined): BenchSet {
  const dir = resolve(dirArg ?? join(repoRoot, '..', 'shared', 'bench', 'public'));
  const scorer = [join(dir, '..', 'score.mjs'), join(repoRoot, '..', 'shared', 'bench', 'score.mjs')].find((p) => existsSync(p));
  if (!existsSync(dir) || !scorer) {
    console.error(`bench:${name} needs the benchmark folder (${dir}) and its score.mjs`);
    process.exit(2);
  }
  const out = join(repoRoot, '.bench-out', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  return {
    dir,
    out,
    videos: readdirSync(dir).filter((f) => /\.(mp4|mov)$/i.test(f)).sort(),
    score() {
      const r = spawnSync(process.execPath, [scorer, dir, out], { encoding: 'utf8' });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.status ?? 1;
    },
  };
}

export const baseName = (video: string) => video.replace(/\.(mp4|mov)$/i, '');

/** Serves the files of `dir` over HTTP on a loopback port, as any web host would. */
export async function serveFolder(dir: string): Promise<{ urlOf(name: string): string; close(): void }> {
  const files = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const path = join(dir, name);
    if (name.includes('/') || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  const port = (files.address() as { port: number }).port;
  return { urlOf: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`, close: () => files.close() };
}

export interface BenchService {
  base: string;
  pid: number;
  /** Headers with the first key's bearer token. */
  auth: Record<string, string>;
  stop(): void;
}

/** `kirin start` as `npm start` runs it, on a temporary data folder, with its first key. */
export async function startBenchService(env: Record<string, string> = {}): Promise<BenchService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kirin-bench-'));
  const server = spawn(process.execPath, [join(repoRoot, 'bin', 'kirin.js'), 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KIRIN_DATA_DIR: dataDir, KIRIN_ALLOW_PRIVATE_URLS: '1', LOG_LEVEL: 'warn', ...env },
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
  return {
    base,
    pid: server.pid!,
    auth: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    stop() {
      server.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SettledTask {
  id: string;
  status: string;
  error?: { code: string };
}

/** Creates a task for a video URL; resolves with its id. */
export async function submitTask(svc: BenchService, videoUrl: string, externalId: string): Promise<string> {
  const r = await fetch(`${svc.base}/model/v1/generation`, {
    method: 'POST',
    headers: svc.auth,
    body: JSON.stringify({ model: 'kirin_identify_face', video_url: videoUrl, external_task_id: externalId }),
  });
  if (!r.ok) throw new Error(`create failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

/** Polls a task every `everyMs` until it completes or fails. */
export async function waitForTask(svc: BenchService, id: string, everyMs = 200): Promise<SettledTask> {
  for (;;) {
    const task = (await (await fetch(`${svc.base}/model/v1/generation/${id}`, { headers: svc.auth })).json()) as SettledTask;
    if (task.status === 'completed' || task.status === 'failed') return task;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A 60 s 1080p30 talking-head clip (from ../shared/bench/clips, or a face photo of face-api), made once. */
export function speedClip(): string {
  const out = join(repoRoot, '.bench-out', 'speed-60s-1080p30.mp4');
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const clip = join(repoRoot, '..', 'shared', 'bench', 'clips', 'lp_d9.mp4');
  const photo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api')), '..', 'demo', 'sample1.jpg');
  const input = existsSync(clip) ? ['-stream_loop', '-1', '-i', clip] : ['-loop', '1', '-framerate', '30', '-i', photo];
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', ...input, '-t', '60', '-vf',
    'fps=30,scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,format=yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-an', out], { stdio: 'inherit' });
  return out;
}
