import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ErrorCode, KirinError } from '../errors.js';

/**
 * The rules for a URL the service connects to on a client's behalf (`video_url`, `callback_url`;
 * CONTRACT.md §3: 014001001, 014001102). The URL is attacker-controlled: only http/https, no
 * credentials, only ports 80 and 443 (or KIRIN_URL_PORTS), and no private, loopback, link-local,
 * metadata or other non-public address, whatever form it is written in. A host name is resolved
 * once, every address it resolves to is checked, and the connection goes to the address that was
 * checked (`pinnedLookup`), so a DNS rebinding between check and connect cannot redirect it.
 */

const MAX_URL_LENGTH = 8192;
const DEFAULT_PORTS: readonly number[] = Object.freeze([80, 443]);

export interface AddressRules {
  /** Allow private/loopback/link-local/metadata addresses and any port (KIRIN_ALLOW_PRIVATE_URLS=1). */
  allowPrivate: boolean;
  /** Ports allowed when `allowPrivate` is false (default KIRIN_URL_PORTS, else [80, 443]). */
  allowedPorts?: readonly number[];
  /**
   * Exempts single addresses from the forbidden-range check when `allowPrivate` is false: an
   * allow-list of trusted internal hosts (tests use it to reach 127.0.0.1 with every other
   * check on). Does not exempt `localhost` names.
   */
  allowAddress?: (ip: string) => boolean;
}

/** Resolves a host name to all its addresses. */
export type HostLookup = (host: string) => Promise<string[]>;

/** KIRIN_URL_PORTS ("80,443,8080"), else 80 and 443. */
export function configuredPorts(env: NodeJS.ProcessEnv = process.env): readonly number[] {
  const raw = env.KIRIN_URL_PORTS?.trim();
  if (!raw) return DEFAULT_PORTS;
  const ports = raw.split(/[\s,]+/).map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  return ports.length > 0 ? ports : DEFAULT_PORTS;
}


/** Parses a client-supplied video URL: http(s) only, a host, no credentials. Throws 014001001. */
export function parseVideoUrl(raw: unknown): URL {
  return parseOutboundUrl(raw, 'video_url');
}

/** Parses a client-supplied URL the service will connect to (`field` names it in messages): http(s) only, a host, no credentials. Throws 014001001. */
export function parseOutboundUrl(raw: unknown, field: string): URL {
  if (typeof raw !== 'string') {
    throw badRequest(`${field} must be a string, got ${raw === null ? 'null' : typeof raw}`);
  }
  const s = raw.trim();
  if (s === '') throw badRequest(`${field} is empty`);
  if (s.length > MAX_URL_LENGTH) {
    throw badRequest(`${field} is ${s.length} characters long, more than the ${MAX_URL_LENGTH} allowed`);
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw badRequest(`${field} is not a valid absolute URL: ${quote(s)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`${field} scheme "${url.protocol.replace(/:$/, '')}" is not allowed (only http and https)`);
  }
  // `http://:@host/` parses with empty username and password, so look at the raw authority too.
  const authority = /^[a-z][a-z0-9+.-]*:[\\/]*([^\\/?#]*)/i.exec(s)?.[1] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw badRequest(`${field} must not contain credentials (user:password@)`);
  }
  if (url.hostname === '' || url.hostname === '[]') throw badRequest(`${field} has an empty host`);
  return url;
}

/** The URL's host without IPv6 brackets, lower-case, without trailing dots. */
export function bareHost(url: URL): string {
  let h = url.hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.replace(/\.+$/, '');
}

export function effectivePort(url: URL): number {
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
 * Throws 014001102. Host names are checked again, after resolution, by `resolveAllowedAddress`.
 */
export function checkUrlAllowedStatic(
  url: URL,
  opts: AddressRules,
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

/** `dns.promises.lookup(host, { all: true })`, every address in the resolver's order. */
export async function defaultLookup(host: string): Promise<string[]> {
  const all = await dns.lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

/**
 * Resolves the URL's host (unless it is an IP literal), refuses with 014001102 if any address is
 * forbidden, and returns the one to connect to. A failed lookup is reported through `fail`
 * (each caller has its own error for that); the caller's signal aborts the lookup.
 */
export async function resolveAllowedAddress(
  url: URL,
  rules: Pick<AddressRules, 'allowPrivate' | 'allowAddress'> & { lookup?: HostLookup; signal?: AbortSignal },
  fail: (message: string) => Error,
): Promise<string> {
  const host = bareHost(url);
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    const resolve = rules.lookup ?? defaultLookup;
    try {
      addresses = await (rules.signal ? raceAbort(resolve(host), rules.signal) : resolve(host));
    } catch (err) {
      if (rules.signal?.aborted) throw err;
      const code = (err as NodeJS.ErrnoException)?.code;
      throw fail(`DNS lookup of ${host} failed${code ? ` (${code})` : ''}`);
    }
    addresses = addresses.filter((a) => typeof a === 'string' && a !== '');
    if (addresses.length === 0) throw fail(`DNS lookup of ${host} returned no address`);
  }
  if (!rules.allowPrivate) {
    const bad = addresses.filter((a) => isForbiddenAddress(a) && !rules.allowAddress?.(a));
    if (bad.length > 0) {
      throw notAllowed(
        `URL not allowed: host ${url.hostname} resolves to a private/loopback/link-local/metadata address (${bad.join(', ')})`,
      );
    }
  }
  const chosen = addresses.find((a) => isIP(a) !== 0);
  if (!chosen) throw fail(`DNS lookup of ${host} returned no usable address`);
  return chosen;
}

/** A `lookup` for http(s).request that answers `address` whatever the name: the connection goes where the check went. */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_host: string, o: unknown, cb?: unknown) => {
    const callback = (typeof o === 'function' ? o : cb) as (...args: unknown[]) => void;
    const all = typeof o === 'object' && o !== null && (o as { all?: boolean }).all;
    if (all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
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

function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

function badRequest(msg: string): KirinError {
  return new KirinError(ErrorCode.BadRequest, msg);
}
function notAllowed(msg: string): KirinError {
  return new KirinError(ErrorCode.UrlNotAllowed, msg);
}
