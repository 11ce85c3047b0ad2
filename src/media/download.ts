import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http, { type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, KirinError } from '../errors.ts';
import { checkUrlAllowedStatic, configuredPorts, effectivePort, parseVideoUrl, pinnedLookup, resolveAllowedAddress, type AddressRules, type HostLookup } from '../net/url-guard.ts';

export { checkUrlAllowedStatic, isForbiddenAddress, parseVideoUrl } from '../net/url-guard.ts';

/**
 * Fetching a client's `video_url` safely (CONTRACT.md §3: 014001101, 014001102, 014001103).
 *
 * Threat model: the URL is attacker-controlled. The rules of net/url-guard.ts (scheme,
 * credentials, port, non-public addresses, the pinned connection) apply on the first hop and
 * after every redirect.
 */

const MiB = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'kirin-face/0.1 (video fetch)';

export interface DownloadOptions extends AddressRules {
  /** Largest body accepted, in bytes (default 100 MiB, as validate.ts reads "100 MB"). */
  maxBytes: number;
  /** DNS resolution + TCP connect + TLS handshake of one hop (default 10 s). */
  connectTimeoutMs: number;
  /** Longest silence while waiting for response headers or between body chunks (default 15 s). */
  readTimeoutMs: number;
  /** The whole download including every redirect (default 120 s). */
  totalTimeoutMs: number;
  /** Redirects followed before giving up with 014001101 (default 5). */
  maxRedirects: number;
  /** Aborting rejects the download with `signal.reason` and removes the partial file. */
  signal?: AbortSignal;
  /** Resolves a host name to all its addresses (default: `dns.promises.lookup(host, { all: true })`). */
  lookup?: HostLookup;
}

export const DEFAULT_DOWNLOAD_OPTIONS: Readonly<DownloadOptions> = Object.freeze({
  maxBytes: 100 * MiB,
  connectTimeoutMs: 10_000,
  readTimeoutMs: 15_000,
  totalTimeoutMs: 120_000,
  maxRedirects: 5,
  allowPrivate: false,
});

/**
 * The defaults with the operator's settings from the environment, read at each call so every
 * caller (task runner, CLI) follows them: KIRIN_DOWNLOAD_TIMEOUT_MS (whole download),
 * KIRIN_DOWNLOAD_IDLE_TIMEOUT_MS (silence while waiting for data), KIRIN_URL_PORTS (allowed ports).
 */
export function downloadDefaults(env: NodeJS.ProcessEnv = process.env): DownloadOptions {
  const ms = (v: string | undefined, dflt: number) => {
    const n = v === undefined || v === '' ? NaN : Number(v);
    return Number.isFinite(n) && n > 0 ? n : dflt;
  };
  return {
    ...DEFAULT_DOWNLOAD_OPTIONS,
    totalTimeoutMs: ms(env.KIRIN_DOWNLOAD_TIMEOUT_MS, DEFAULT_DOWNLOAD_OPTIONS.totalTimeoutMs),
    readTimeoutMs: ms(env.KIRIN_DOWNLOAD_IDLE_TIMEOUT_MS, DEFAULT_DOWNLOAD_OPTIONS.readTimeoutMs),
    allowedPorts: configuredPorts(env),
  };
}

export interface DownloadResult {
  bytes: number;
  /** The URL of the last hop (after redirects). */
  finalUrl: string;
  contentType?: string;
}

// ---------------------------------------------------------------------------------------------
// Download

/**
 * Downloads `url` to `destFile`, following redirects, with every check of this module on every
 * hop. Resolves with the byte count, the final URL and its Content-Type. Rejects with
 * KirinError 014001001/014001101/014001102/014001103, with `signal.reason` when aborted, or with
 * the file system's error when `destFile` cannot be written. A partial `destFile` is removed.
 */
export async function downloadVideo(
  url: URL | string,
  destFile: string,
  options: Partial<DownloadOptions> = {},
): Promise<DownloadResult> {
  const opts: DownloadOptions = { ...downloadDefaults(), ...stripUndefined(options) };
  const { signal } = opts;
  signal?.throwIfAborted();

  // One controller for the whole download: the caller's signal, the total timeout and the
  // per-phase watchdog (connect / read) all abort it with the error to report.
  const ctl = new AbortController();
  const onUserAbort = () => ctl.abort(signal!.reason);
  signal?.addEventListener('abort', onUserAbort, { once: true });
  const totalTimer = setTimeout(
    () => ctl.abort(failed(`download failed: total timeout, the download took longer than ${opts.totalTimeoutMs} ms`)),
    opts.totalTimeoutMs,
  );
  const watchdog = new Watchdog(ctl);
  const file: FileState = { stream: null, writeError: null };

  try {
    return await run(typeof url === 'string' ? url : url.href, destFile, opts, ctl.signal, watchdog, file);
  } catch (err) {
    const reported = ctl.signal.aborted ? ctl.signal.reason : file.writeError ?? toKirinError(err);
    if (!ctl.signal.aborted) ctl.abort(reported); // stop anything still in flight
    await removePartial(file, destFile);
    throw reported;
  } finally {
    clearTimeout(totalTimer);
    watchdog.disarm();
    signal?.removeEventListener('abort', onUserAbort);
  }
}

interface FileState {
  stream: WriteStream | null;
  writeError: Error | null;
}

/** One phase timer at a time (connect, then read-idle); firing aborts the download. */
class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly ctl: AbortController) {}
  arm(ms: number, make: () => KirinError): void {
    this.disarm();
    this.timer = setTimeout(() => this.ctl.abort(make()), ms);
  }
  /** Restarts the current phase's timer (a chunk arrived). */
  touch(): void {
    if (this.timer) this.timer.refresh();
  }
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

async function run(
  first: string,
  destFile: string,
  opts: DownloadOptions,
  signal: AbortSignal,
  watchdog: Watchdog,
  file: FileState,
): Promise<DownloadResult> {
  let current = first;
  for (let redirects = 0; ; redirects++) {
    let url: URL;
    try {
      url = parseVideoUrl(current);
    } catch (err) {
      // The first URL is the client's (400); a redirect's target is the server's doing.
      if (redirects === 0 || !(err instanceof KirinError)) throw err;
      throw failed(`download failed: redirect to an unusable URL: ${err.message}`);
    }
    checkUrlAllowedStatic(url, opts);
    const display = url.host;

    watchdog.arm(opts.connectTimeoutMs, () =>
      failed(`download failed: connect timeout, no connection to ${display} within ${opts.connectTimeoutMs} ms`),
    );
    const address = await resolveAllowedAddress(url, { ...opts, signal }, (m) => failed(`download failed: ${m}`));
    const res = await request(url, address, signal, watchdog, opts);

    const status = res.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      const location = res.headers.location;
      res.destroy();
      if (!location) throw failed(`download failed: HTTP ${status} redirect from ${display} without a Location header`);
      if (redirects >= opts.maxRedirects) {
        throw failed(`download failed: too many redirects (more than ${opts.maxRedirects}), last from ${display}`);
      }
      let next: string;
      try {
        next = new URL(location, url).href;
      } catch {
        throw failed(`download failed: invalid redirect Location ${quote(location)} from ${display}`);
      }
      current = next;
      continue;
    }
    if (status < 200 || status > 299) {
      res.destroy();
      throw failed(`download failed: HTTP ${status} from ${display}`);
    }

    const limit = opts.maxBytes;
    const lengthHeader = res.headers['content-length'];
    if (lengthHeader !== undefined && /^\d+$/.test(lengthHeader) && Number(lengthHeader) > limit) {
      res.destroy();
      throw tooLarge(`${fmtLimit(limit)}: Content-Length is ${lengthHeader} bytes, not read`);
    }

    let bytes = 0;
    const limiter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        watchdog.touch();
        if (bytes > limit) cb(tooLarge(`${fmtLimit(limit)}: stopped reading at ${bytes} bytes`));
        else cb(null, chunk);
      },
    });
    const out = createWriteStream(destFile);
    file.stream = out;
    out.once('error', (e) => {
      file.writeError ??= e;
    });
    try {
      await pipeline(res, limiter, out, { signal });
    } catch (err) {
      throw signal.aborted || file.writeError ? err : toKirinError(err, display);
    }
    watchdog.disarm();
    const contentType = res.headers['content-type'];
    return { bytes, finalUrl: url.href, ...(contentType ? { contentType } : {}) };
  }
}

/** Sends the GET to the pinned address and resolves with the response head. */
function request(
  url: URL,
  address: string,
  signal: AbortSignal,
  watchdog: Watchdog,
  opts: DownloadOptions,
): Promise<IncomingMessage> {
  const isHttps = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const reqOpts: RequestOptions & { servername?: string } = {
    protocol: url.protocol,
    host,
    port: effectivePort(url),
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    headers: { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' },
    agent: false, // a fresh connection per hop: never reuse a socket connected elsewhere
    lookup: pinnedLookup(address), // whatever the name resolves to now, connect to the address we checked
    signal,
  };
  if (isHttps && isIP(host) === 0) reqOpts.servername = host.replace(/\.+$/, '');

  return new Promise<IncomingMessage>((resolvePromise, reject) => {
    const mod = isHttps ? https : http;
    const req = mod.request(reqOpts, (res) => {
      watchdog.touch();
      resolvePromise(res);
    });
    const startReadPhase = () =>
      watchdog.arm(opts.readTimeoutMs, () =>
        failed(`download failed: read timeout, no data from ${url.host} for ${opts.readTimeoutMs} ms`),
      );
    req.once('socket', (socket) => {
      const connectedEvent = isHttps ? 'secureConnect' : 'connect';
      socket.once(connectedEvent, startReadPhase);
    });
    req.on('error', (err) => reject(signal.aborted ? signal.reason : toKirinError(err, url.host)));
    req.end();
  });
}

async function removePartial(file: FileState, destFile: string): Promise<void> {
  const out = file.stream;
  if (!out) return;
  // Wait for the stream to close: removing the file before its asynchronous open
  // finished would let the open re-create it.
  if (!out.closed) {
    if (!out.destroyed) out.destroy();
    await new Promise<void>((r) => out.once('close', () => r()));
  }
  await rm(destFile, { force: true }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Errors

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** Maps a network error to 014001101 with a one-line message (never a stack). */
function toKirinError(err: unknown, where = 'the server'): KirinError {
  if (err instanceof KirinError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code ?? '';
  const detail = code ? ` (${code})` : '';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return failed(`download failed: DNS lookup of ${where} failed${detail}`);
    case 'ECONNREFUSED':
      return failed(`download failed: connection refused by ${where}${detail}`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return failed(`download failed: connection to ${where} was closed before the download completed${detail}`);
    case 'ETIMEDOUT':
      return failed(`download failed: connection to ${where} timed out${detail}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return failed(`download failed: ${where} is unreachable${detail}`);
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /certificate|ssl|tls/i.test(e?.message ?? '')) {
    const msg = e?.message ?? code;
    const openssl = /SSL routines:[^:]*:([^:]+)/.exec(msg)?.[1]; // "…:SSL routines:ssl3_get_record:wrong version number:…"
    return failed(`download failed: TLS error with ${where}: ${oneLine(openssl ?? msg)}${detail}`);
  }
  if (code.startsWith('HPE_')) return failed(`download failed: invalid HTTP response from ${where}${detail}`);
  return failed(`download failed: ${oneLine(e?.message ?? String(err))}${detail}`);
}

function oneLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function fmtLimit(limit: number): string {
  return limit % MiB === 0 ? `file larger than ${limit / MiB} MB (${limit} bytes)` : `file larger than ${limit} bytes`;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

function failed(msg: string): KirinError {
  return new KirinError(ErrorCode.DownloadFailed, msg);
}
function tooLarge(msg: string): KirinError {
  return new KirinError(ErrorCode.FileTooLarge, msg);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
