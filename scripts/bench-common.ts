import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ffmpegPath } from '../src/media/binaries.js';
import { API_KEY_PATTERN } from '../src/storage/api-keys.js';

export const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** The shared benchmark folder (videos, clips, compose.mjs and the scorers), beside this checkout. */
export const sharedBench = join(repoRoot, '..', 'shared', 'bench');
/** Where a set of scripts/speaking-cases/ comes in the order they were written: tune, check, check2, check3, … (any other name last). */
const setOrder = (name: string): number => (name === 'tune' ? 0 : /^check\d*$/.test(name) ? Number(name.slice(5) || 1) : Infinity);

/**
 * The composed who-is-speaking sets, the folders of scripts/speaking-cases/, in the order they
 * were written (each check set after check/ written before a method change, or the method as it
 * is, was scored on it): a new set is a new folder.
 */
export const SPEAKING_CASE_SETS: readonly string[] = readdirSync(join(repoRoot, 'scripts', 'speaking-cases'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort((a, b) => setOrder(a) - setOrder(b) || a.localeCompare(b));

/** A time span as the result JSON and the truth files give it (ms). */
export interface Span { start_time: number; end_time: number }
/** A who-is-speaking truth file (compose.mjs): each true face's presence and when its own voice is heard. */
export interface SpeakingTruth { video: string; faces: (Span & { speaking?: Span[] })[] }

/** A benchmark tool (a scorer): the one beside DIR's folder, else the shared benchmark's. */
export function benchTool(dir: string, file: string): string | undefined {
  return [join(dir, '..', file), join(sharedBench, file)].find((p) => existsSync(p));
}

export interface BenchSet {
  /** Folder of NAME.mp4|mov with NAME.truth.json. */
  dir: string;
  videos: string[];
  /** Fresh output folder .bench-out/<name>-<folder> (one per benchmark folder, so runs over two folders keep both). */
  out: string;
  /** Runs the benchmark's score.mjs over `out`, prints its lines, returns its exit code. */
  score(): number;
}

/** The benchmark videos (DIR, default ../shared/bench/public) and the scorer next to them. */
export function benchSet(name: string, dirArg: string | undefined): BenchSet {
  const dir = resolve(dirArg ?? join(sharedBench, 'public'));
  const scorer = benchTool(dir, 'score.mjs');
  if (!existsSync(dir) || !scorer) {
    console.error(`bench:${name} needs the benchmark folder (${dir}) and its score.mjs`);
    process.exit(2);
  }
  const out = join(repoRoot, '.bench-out', `${name}-${basename(dir)}`);
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
  /** The service's data folder (its SQLite database is kirin.db there). */
  dataDir: string;
  /** With `logToFile`: the file the service's stdout (banner and log) goes to. */
  logFile?: string;
  /** Stops the service; resolves once it has exited and its data folder is removed. */
  stop(): Promise<void>;
}

/**
 * `kirin start` as `npm start` runs it, on a temporary data folder, with its first key. With
 * `logToFile` its stdout goes to a file in the data folder instead of a pipe read by this process
 * (a busy benchmark would otherwise hold up the service's log writes).
 */
export async function startBenchService(env: Record<string, string> = {}, opts: { logToFile?: boolean } = {}): Promise<BenchService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kirin-bench-'));
  const logFile = opts.logToFile ? join(dataDir, 'service.log') : undefined;
  const logFd = logFile ? openSync(logFile, 'w') : undefined;
  const server = spawn(process.execPath, [join(repoRoot, 'bin', 'kirin.js'), 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KIRIN_DATA_DIR: dataDir, KIRIN_ALLOW_PRIVATE_URLS: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', logFd ?? 'pipe', 'inherit'],
  });
  if (logFd !== undefined) closeSync(logFd);
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  let ended = false;
  void exited.then(() => (ended = true));
  let banner = '';
  const collect = (b: Buffer) => (banner += b.toString());
  server.stdout?.on('data', collect);
  const { key, base } = await (async () => {
    for (;;) {
      const out = logFile ? readFileSync(logFile, 'utf8') : banner;
      const k = API_KEY_PATTERN.exec(out);
      const u = /listening on (http:\/\/[0-9.:]+)\s/.exec(out); // whitespace after: the line was read whole
      if (k && u) return { key: k[0], base: u[1] };
      if (ended) throw new Error(`service exited: ${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  server.stdout?.off('data', collect).resume(); // the pipe keeps draining, nothing kept
  return {
    base,
    pid: server.pid!,
    auth: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    dataDir,
    logFile,
    async stop() {
      server.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where a benchmark's requests go: the API's base URL and the headers with a key. */
export type ApiTarget = Pick<BenchService, 'base' | 'auth'>;

export interface SettledTask {
  id: string;
  status: string;
  error?: { code: string };
}

/** Creates a task for a video URL; resolves with its id. */
export async function submitTask(svc: ApiTarget, videoUrl: string, externalId: string): Promise<string> {
  const r = await fetch(`${svc.base}/model/v1/generation`, {
    method: 'POST',
    headers: svc.auth,
    body: JSON.stringify({ model: 'kirin_identify_face', video_url: videoUrl, external_task_id: externalId }),
  });
  if (!r.ok) throw new Error(`create failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

/** Polls a task every `everyMs` until it completes or fails. */
export async function waitForTask(svc: ApiTarget, id: string, everyMs = 200): Promise<SettledTask> {
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
  const clip = join(sharedBench, 'clips', 'lp_d9.mp4');
  const photo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api')), '..', 'demo', 'sample1.jpg');
  const input = existsSync(clip) ? ['-stream_loop', '-1', '-i', clip] : ['-loop', '1', '-framerate', '30', '-i', photo];
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', ...input, '-t', '60', '-vf',
    'fps=30,scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,format=yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-an', out], { stdio: 'inherit' });
  return out;
}

/**
 * The 60 s 1080p30 multi-face clip (a face, a pair, another face, blanks between) that
 * ../shared/bench/speed/long60_multi_1080p.spec.json describes, built once with the benchmark's
 * compose.mjs; undefined without ../shared/bench.
 */
export function multiFaceClip(): string | undefined {
  const spec = join(sharedBench, 'speed', 'long60_multi_1080p.spec.json');
  if (!existsSync(spec) || !existsSync(join(sharedBench, 'compose.mjs'))) return undefined;
  const out = join(repoRoot, '.bench-out', 'speed-long60_multi_1080p.mp4');
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'kirin-compose-'));
  try {
    // compose.mjs writes its truth beside the video: built aside, only the video is kept
    compose(spec, join(dir, 'clip.mp4'));
    copyFileSync(join(dir, 'clip.mp4'), out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Builds the video a compose.mjs spec describes (and its truth, OUT.truth.json beside it) from the benchmark's clips. */
export function compose(spec: string, outVideo: string): void {
  execFileSync(process.execPath, [join(sharedBench, 'compose.mjs'), spec, outVideo], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CLIP_DIR: join(sharedBench, 'clips'), FFMPEG: ffmpegPath() },
  });
}
