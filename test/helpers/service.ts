/**
 * Helpers for HTTP tests against a real Kirin service on an ephemeral port.
 *
 *   const t = await startTestService({ KIRIN_SYNC_TIMEOUT_MS: '1' });
 *   const res = await t.api('POST', '/model/v1/generation', { body: { model: 'kirin_identify_face', video_url } });
 *   await t.close();
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import type { Clock } from '../../src/clock.ts';
import { loadConfig, type ServiceConfig } from '../../src/config.ts';
import { startService, type RunningService } from '../../src/service/kirin-service.ts';
import { API_KEY_PATTERN, createApiKey } from '../../src/storage/api-keys.ts';
import { portrait, type PersonName } from './face-photos.ts';
import { makeSegmentsVideo, makeTempDir, type TempDir } from './make-video.ts';

export const MODEL = 'kirin_identify_face';
export const KEY_PATTERN = API_KEY_PATTERN;

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RequestOptions {
  /** A JSON body (objects are stringified; strings are sent as they are with content-type JSON). */
  body?: unknown;
  /** Sent as it is (with `headers` deciding the content type). */
  raw?: BodyInit;
  /** The bearer key; null sends no Authorization header. Default: the service's first key. */
  key?: string | null;
  headers?: Record<string, string>;
  /** Fail when no answer comes within this long (default 60 s). */
  timeoutMs?: number;
}

export type Api = (method: string, path: string, opts?: RequestOptions) => Promise<ApiResponse>;

/**
 * process.env without the scale-out settings (CI exports them for the scale-out tests), so a
 * service started from it runs on embedded defaults: SQLite, local files, the in-process queue.
 */
export function embeddedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of Object.keys(out)) {
    if (/^KIRIN_(DATABASE_URL|REDIS_URL|REDIS_PREFIX|STORAGE_URL|S3_|QUEUE_)/.test(k)) delete out[k];
  }
  return out;
}

/** fetch() against `base` with a bearer key; never throws on an HTTP error status. */
export function makeApi(base: string, defaultKey: string | null): Api {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const key = opts.key === undefined ? defaultKey : opts.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: BodyInit | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(new URL(path, base), { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

export interface TestService {
  svc: RunningService;
  config: ServiceConfig;
  tmp: TempDir;
  dataDir: string;
  /** The key made on first start (owner "default"). */
  key: string;
  api: Api;
  /** A key of another owner, made on the running service's database. */
  newKey(name: string, owner?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the whole service in-process on 127.0.0.1:0 with a fresh data folder, one worker,
 * private URLs allowed and a 200 ms first callback retry; `env` overrides any of that
 * (a value of undefined removes the variable).
 */
export async function startTestService(env: Record<string, string | undefined> = {}, opts: { clock?: Clock } = {}): Promise<TestService> {
  const tmp = await makeTempDir('kirin-svc-');
  const dataDir = tmp.file('data');
  const merged: Record<string, string | undefined> = {
    ...embeddedEnv(),
    PORT: '0',
    HOST: '127.0.0.1',
    KIRIN_DATA_DIR: dataDir,
    KIRIN_ALLOW_PRIVATE_URLS: '1',
    KIRIN_WORKERS: '1',
    KIRIN_CALLBACK_FIRST_DELAY_MS: '200',
    KIRIN_PUBLIC_URL: undefined,
    ...env,
  };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  const config = loadConfig(merged);
  let key = '';
  const svc = await startService(config, { clock: opts.clock, onFirstKey: (k) => (key = k) });
  assert.match(key, KEY_PATTERN, 'a key is made on first start');
  return {
    svc,
    config,
    tmp,
    dataDir,
    key,
    api: makeApi(svc.url, key),
    newKey: async (name, owner = name) => (await createApiKey(svc.repositories.apiKeys, name, owner)).key,
    close: async () => {
      await svc.close();
      await tmp.cleanup();
    },
  };
}

/** The same path and query on the running service (face_image URLs start with KIRIN_PUBLIC_URL, which names port 0 here). */
export function onService(url: string, base: string): string {
  const u = new URL(url);
  return new URL(u.pathname + u.search, base).href;
}

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, what = 'condition', everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls a task until it is completed or failed and returns it. */
export async function settled(api: Api, taskId: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(async () => {
    const r = await api('GET', `/model/v1/generation/${taskId}`);
    assert.equal(r.status, 200, r.text);
    return r.json.status === 'completed' || r.json.status === 'failed' ? r.json : undefined;
  }, timeoutMs, `task ${taskId} to settle`, 150);
}

/** Asserts an HTTP error: the status, `{ error: { code, error_message } }`, no stack trace. */
export function assertError(r: ApiResponse, status: number, code: string, what = ''): void {
  assert.equal(r.status, status, `${what} status (body ${r.text})`);
  assert.ok(r.json && typeof r.json === 'object', `${what} JSON error body: ${r.text}`);
  assert.deepEqual(Object.keys(r.json), ['error'], `${what} body has only "error": ${r.text}`);
  assert.equal(r.json.error.code, code, `${what} code (body ${r.text})`);
  assert.equal(typeof r.json.error.error_message, 'string');
  assert.ok(r.json.error.error_message.length > 0, 'a message');
  assertNoStack(r.text);
}

export function assertNoStack(text: string): void {
  assert.ok(!text.includes('\n    at ') && !/\\n\s+at /.test(text), `no stack trace in ${text.slice(0, 500)}`);
}

// ---------------------------------------------------------------------------------------------
// Videos

/** One face (person `who`) from 500 to 3000 ms, 1280×720 at 30 fps, 3 s long. */
export async function makeFaceVideo(tmp: TempDir, name: string, who: PersonName = 'a'): Promise<string> {
  const png = await portrait(who, tmp.file(`${name}-${who}.png`));
  const { out } = await makeSegmentsVideo({ out: tmp.file(`${name}.mp4`), segments: [{ seconds: 0.5, blank: true }, { seconds: 2.5, image: png, fit: 0.8 }] });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Local servers

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** Serves the files of `dir` by name (`/name.mp4`); anything else is 404. Counts requests per path. */
export async function serveFiles(dir: string): Promise<LocalServer & { hits: Map<string, number>; fileUrl(file: string): string }> {
  const hits = new Map<string, number>();
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = join(dir, basename(path));
    try {
      const s = await stat(file);
      if (!s.isFile() || basename(path) !== path.slice(1)) throw new Error('not a file');
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': s.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  const url = await listen(server);
  return { url, hits, fileUrl: (file) => `${url}/${basename(file)}`, close: () => closeServer(server) };
}

export interface ReceivedCallback {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A callback receiver: records every POST; `statusFor(path, n)` decides the answer to the n-th
 * request (1-based) on that path (default 200).
 */
export async function startReceiver(statusFor: (path: string, n: number) => number = () => 200): Promise<LocalServer & { received: ReceivedCallback[]; on(path: string): ReceivedCallback[] }> {
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = received.filter((r) => r.path === path).length + 1;
      const status = statusFor(path, n);
      received.push({ at: Date.now(), path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(String(status));
    });
  });
  const url = await listen(server);
  return { url, received, on: (path) => received.filter((r) => r.path === path), close: () => closeServer(server) };
}
