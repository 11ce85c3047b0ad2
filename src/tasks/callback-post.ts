import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { ErrorCode, KirinError } from '../errors.js';
import { checkUrlAllowedStatic, effectivePort, parseOutboundUrl, pinnedLookup, resolveAllowedAddress, type AddressRules, type HostLookup } from '../net/url-guard.js';

export interface CallbackPostOptions extends AddressRules {
  headers: Record<string, string>;
  timeoutMs: number;
  lookup?: HostLookup;
}

/** Why a delivery was not even tried: the URL breaks the outbound URL rules (never retried). */
export class CallbackRefused extends Error {}

/**
 * POSTs `body` to a callback URL under the same rules as a video download (net/url-guard.ts):
 * the URL is checked again (it may predate the rules or the settings), the host is resolved once,
 * every address checked, and the connection pinned to the checked address. Redirects are not
 * followed. Resolves with the HTTP status; rejects with CallbackRefused when the URL is not
 * allowed, or with the network error.
 */
export async function postCallback(rawUrl: string, body: string, opts: CallbackPostOptions): Promise<number> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url: URL;
  let address: string;
  try {
    url = parseOutboundUrl(rawUrl, 'callback_url');
    checkUrlAllowedStatic(url, opts);
    address = await resolveAllowedAddress(url, { ...opts, signal }, (m) => new Error(m));
  } catch (e) {
    if (e instanceof KirinError && (e.code === ErrorCode.UrlNotAllowed || e.code === ErrorCode.BadRequest)) throw new CallbackRefused(e.message);
    throw e;
  }
  const isHttps = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const payload = Buffer.from(body, 'utf8');
  const reqOpts: https.RequestOptions = {
    protocol: url.protocol,
    host,
    port: effectivePort(url),
    path: `${url.pathname}${url.search}`,
    method: 'POST',
    headers: { ...opts.headers, 'content-length': String(payload.length) },
    agent: false, // a fresh connection to the checked address, never a pooled one
    lookup: pinnedLookup(address),
    signal,
  };
  if (isHttps && isIP(host) === 0) reqOpts.servername = host.replace(/\.+$/, '');
  return new Promise<number>((resolve, reject) => {
    const req = (isHttps ? https : http).request(reqOpts, (res) => {
      res.resume(); // the answer's body is not read, only its status
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => reject(signal.aborted ? new Error(`no answer within ${opts.timeoutMs} ms`) : err));
    req.end(payload);
  });
}
