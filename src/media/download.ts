import { promises as dns } from 'node:dns';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http, { type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, KirinError } from '../errors.ts';

/**
 * Fetching a client's `video_url` safely (CONTRACT.md §3: 014001101, 014001102, 014001103).
 *
 * Threat model: the URL is attacker-controlled. We refuse private, loopback, link-local,
 * metadata and other non-public addresses (unless `allowPrivate`), on the first hop and after
 * every redirect; we resolve the name ourselves, check *every* address it resolves to and then
 * connect to exactly the address we checked (the pinned `lookup` below), so a DNS rebinding
 * between check and connect cannot redirect us. Only http/https; only ports 80 and 443 unless
 * `allowPrivate` (any port), `allowedPorts` or KIRIN_URL_PORTS says otherwise.
 */

const MiB = 1024 * 1024;
const MAX_URL_LENGTH = 8192;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_PORTS: readonly number[] = Object.freeze([80, 443]);
const USER_AGENT = 'kirin-face/0.1 (video fetch)';

export interface DownloadOptions {
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
  /** Allow private/loopback/link-local/metadata addresses and any port (default false; tests, trusted setups). */
  allowPrivate: boolean;
  /** Ports allowed when `allowPrivate` is false (default KIRIN_URL_PORTS, else [80, 443]). */
  allowedPorts?: readonly number[];
  /**
   * Exempts single addresses from the forbidden-range check when `allowPrivate` is false: an
   * allow-list of trusted internal hosts (tests use it to reach 127.0.0.1 with every other
   * check on). Does not exempt `localhost` names.
   */
  allowAddress?: (ip: string) => boolean;
  /** Aborting rejects the download with `signal.reason` and removes the partial file. */
  signal?: AbortSignal;
  /** Resolves a host name to all its addresses (default: `dns.promises.lookup(host, { all: true })`). */
  lookup?: (host: string) => Promise<string[]>;
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

/** KIRIN_URL_PORTS ("80,443,8080"), else 80 and 443. */
function configuredPorts(env: NodeJS.ProcessEnv = process.env): readonly number[] {
  const raw = env.KIRIN_URL_PORTS?.trim();
  if (!raw) return DEFAULT_PORTS;
  const ports = raw.split(/[\s,]+/).map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  return ports.length > 0 ? ports : DEFAULT_PORTS;
}

export interface DownloadResult {
  bytes: number;
  /** The URL of the last hop (after redirects). */
  finalUrl: string;
  contentType?: string;
}

// ---------------------------------------------------------------------------------------------
// URL parsing and the static (no-DNS) check

/** Parses a client-supplied video URL: http(s) only, a host, no credentials. Throws 014001001. */
export function parseVideoUrl(raw: unknown): URL {
  if (typeof raw !== 'string') {
    throw badRequest(`video_url must be a string, got ${raw === null ? 'null' : typeof raw}`);
  }
  const s = raw.trim();
  if (s === '') throw badRequest('video_url is empty');
  if (s.length > MAX_URL_LENGTH) {
    throw badRequest(`video_url is ${s.length} characters long, more than the ${MAX_URL_LENGTH} allowed`);
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw badRequest(`video_url is not a valid absolute URL: ${quote(s)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`video_url scheme "${url.protocol.replace(/:$/, '')}" is not allowed (only http and https)`);
  }
  // `http://:@host/` parses with empty username and password, so look at the raw authority too.
  const authority = /^[a-z][a-z0-9+.-]*:[\\/]*([^\\/?#]*)/i.exec(s)?.[1] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw badRequest('video_url must not contain credentials (user:password@)');
  }
  if (url.hostname === '' || url.hostname === '[]') throw badRequest('video_url has an empty host');
  return url;
}

/** The URL's host without IPv6 brackets, lower-case, without trailing dots. */
function bareHost(url: URL): string {
  let h = url.hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.replace(/\.+$/, '');
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * The check that needs no DNS (usable at task creation): the port, and a host that is an IP
 * literal (any form the WHATWG parser normalises: `127.1`, `2130706433`, `0x7f000001`,
 * `[::ffff:127.0.0.1]`) or `localhost` / `*.localhost` (with or without trailing dots).
 * Throws 014001102. Host names are checked again, after resolution, by `downloadVideo`.
 */
export function checkUrlAllowedStatic(
  url: URL,
  opts: { allowPrivate: boolean; allowedPorts?: readonly number[]; allowAddress?: (ip: string) => boolean },
): void {
  if (opts.allowPrivate) return;
  const port = effectivePort(url);
  const ports = opts.allowedPorts ?? configuredPorts();
  if (!ports.includes(port)) {
    throw notAllowed(`URL not allowed: port ${port} of ${url.host} is not an allowed port (allowed: ${ports.join(', ')})`);
  }
  const host = bareHost(url);
  if (isLocalhostName(host)) {
    throw notAllowed(`URL not allowed: host ${url.hostname} resolves to a private/loopback/link-local/metadata address (localhost)`);
  }
  if (isIP(host) !== 0 && isForbiddenAddress(host) && !opts.allowAddress?.(host)) {
    throw notAllowed(
      `URL not allowed: host ${url.hostname} resolves to a private/loopback/link-local/metadata address (${host})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Address classification (pure)

type V4Range = readonly [base: number, prefix: number];

/** Non-public IPv4 ranges. Beyond the contract's list: IETF protocol assignments, benchmarking and documentation nets, none of which is a public host. */
const V4_FORBIDDEN: readonly V4Range[] = [
  [v4('0.0.0.0'), 8], // "this network"
  [v4('10.0.0.0'), 8], // private
  [v4('100.64.0.0'), 10], // CGNAT
  [v4('127.0.0.0'), 8], // loopback
  [v4('169.254.0.0'), 16], // link-local, incl. metadata 169.254.169.254
  [v4('172.16.0.0'), 12], // private
  [v4('192.0.0.0'), 24], // IETF protocol assignments
  [v4('192.0.2.0'), 24], // TEST-NET-1
  [v4('192.168.0.0'), 16], // private
  [v4('198.18.0.0'), 15], // benchmarking
  [v4('198.51.100.0'), 24], // TEST-NET-2
  [v4('203.0.113.0'), 24], // TEST-NET-3
  [v4('224.0.0.0'), 4], // multicast
  [v4('240.0.0.0'), 4], // reserved, incl. broadcast 255.255.255.255
];

function v4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function v4Forbidden(n: number): boolean {
  return V4_FORBIDDEN.some(([base, prefix]) => (prefix === 0 ? true : n >>> (32 - prefix) === base >>> (32 - prefix)));
}

/** Parses a canonical-or-not IPv6 text (no brackets, no zone) into 8 hextets, or null. */
function parseV6(s: string): number[] | null {
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const dotted = text.slice(lastColon + 1);
    if (isIP(dotted) !== 4) return null;
    const n = v4(dotted);
    tail = [n >>> 16, n & 0xffff];
    const prefix = text.slice(0, lastColon + 1); // "::", "::ffff:", "64:ff9b::", "1:2:3:4:5:6:"
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const want = 8 - tail.length;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 2) {
    const head = parse(halves[0]!);
    const rest = parse(halves[1]!);
    if (!head || !rest || head.length + rest.length > want - 1) return null;
    groups = [...head, ...new Array<number>(want - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = parse(text);
    if (!all || all.length !== want) return null;
    groups = all;
  }
  return [...groups, ...tail];
}

function v6Forbidden(g: number[]): boolean {
  const [a, b, c, d, e, f, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = ((g6 << 16) | g7) >>> 0;
  // ::/96: unspecified (::), loopback (::1) and deprecated IPv4-compatible (::a.b.c.d).
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0) return embedded <= 1 || v4Forbidden(embedded);
  // ::ffff:a.b.c.d IPv4-mapped.
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) return v4Forbidden(embedded);
  // ::ffff:0:a.b.c.d IPv4-translated (SIIT).
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0xffff && f === 0) return v4Forbidden(embedded);
  // 64:ff9b::/96 NAT64 well-known prefix.
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return v4Forbidden(embedded);
  // 64:ff9b:1::/48 local-use NAT64: translates to whatever the local network decides.
  if (a === 0x64 && b === 0xff9b && c === 1) return true;
  // 2002::/16 6to4: the IPv4 address sits in hextets 1–2.
  if (a === 0x2002) return v4Forbidden(((b << 16) | c) >>> 0);
  if (a === 0x0100 && b === 0 && c === 0 && d === 0) return true; // 100::/64 discard-only
  if (a === 0x2001 && b === 0x0db8) return true; // 2001:db8::/32 documentation
  if ((a & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local, incl. metadata fd00:ec2::254
  if ((a & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((a & 0xffc0) === 0xfec0) return true; // fec0::/10 deprecated site-local
  if ((a & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/**
 * True when `ip` must not be fetched from: loopback, private, link-local, CGNAT, "this network",
 * multicast, reserved/broadcast, cloud metadata (169.254.169.254, fd00:ec2::254), unique-local,
 * unspecified, and IPv4-mapped / -compatible / NAT64 / 6to4 IPv6 forms embedding any of these.
 * Accepts IPv6 with brackets or a zone (`fe80::1%eth0`). Text that is not an IP address (after
 * WHATWG normalisation of forms like `127.1`) counts as forbidden: fail closed.
 */
export function isForbiddenAddress(ip: string): boolean {
  let s = ip.trim().toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let kind = isIP(s);
  if (kind === 0 && /^[0-9a-fx.]+$/.test(s)) {
    // Non-canonical IPv4 (inet_aton forms): let the WHATWG parser normalise it.
    try {
      const h = new URL(`http://${s}/`).hostname;
      if (isIP(h) === 4) {
        s = h;
        kind = 4;
      }
    } catch {
      /* not an address */
    }
  }
  if (kind === 4) return v4Forbidden(v4(s));
  if (kind === 6) {
    const g = parseV6(s);
    return g === null ? true : v6Forbidden(g);
  }
  return true;
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
  const resolve = opts.lookup ?? defaultLookup;
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
    const host = bareHost(url);
    const display = url.host;

    watchdog.arm(opts.connectTimeoutMs, () =>
      failed(`download failed: connect timeout, no connection to ${display} within ${opts.connectTimeoutMs} ms`),
    );
    const address = await resolveChecked(url, host, resolve, opts, signal);
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

async function defaultLookup(host: string): Promise<string[]> {
  const all = await dns.lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

/** Resolves the host (unless it is an IP literal), refuses if any address is forbidden, returns the one to connect to. */
async function resolveChecked(
  url: URL,
  host: string,
  resolve: (host: string) => Promise<string[]>,
  opts: Pick<DownloadOptions, 'allowPrivate' | 'allowAddress'>,
  signal: AbortSignal,
): Promise<string> {
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = await raceAbort(resolve(host), signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const code = (err as NodeJS.ErrnoException)?.code;
      throw failed(`download failed: DNS lookup of ${host} failed${code ? ` (${code})` : ''}`);
    }
    addresses = addresses.filter((a) => typeof a === 'string' && a !== '');
    if (addresses.length === 0) throw failed(`download failed: DNS lookup of ${host} returned no address`);
  }
  if (!opts.allowPrivate) {
    const bad = addresses.filter((a) => isForbiddenAddress(a) && !opts.allowAddress?.(a));
    if (bad.length > 0) {
      throw notAllowed(
        `URL not allowed: host ${url.hostname} resolves to a private/loopback/link-local/metadata address (${bad.join(', ')})`,
      );
    }
  }
  const chosen = addresses.find((a) => isIP(a) !== 0);
  if (!chosen) throw failed(`download failed: DNS lookup of ${host} returned no usable address`);
  return chosen;
}

/** Sends the GET to the pinned address and resolves with the response head. */
function request(
  url: URL,
  address: string,
  signal: AbortSignal,
  watchdog: Watchdog,
  opts: DownloadOptions,
): Promise<IncomingMessage> {
  const family = isIP(address);
  // Pinned resolver: whatever the name resolves to now, connect to the address we checked.
  const pinned = ((_host: string, o: unknown, cb?: unknown) => {
    const callback = (typeof o === 'function' ? o : cb) as (...args: unknown[]) => void;
    const all = typeof o === 'object' && o !== null && (o as { all?: boolean }).all;
    if (all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;

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
    lookup: pinned,
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

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
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

function badRequest(msg: string): KirinError {
  return new KirinError(ErrorCode.BadRequest, msg);
}
function notAllowed(msg: string): KirinError {
  return new KirinError(ErrorCode.UrlNotAllowed, msg);
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
