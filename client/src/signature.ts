import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, KirinError } from './errors.ts';
import type { Task } from './types.ts';

export interface VerifyOptions {
  /** The service's callback secret (`npx kirin callback-secret` prints it). */
  secret: string;
  /** The X-Kirin-Signature header: `t=<unix seconds>,v1=<hex hmac-sha256(secret, t + "." + body)>`. */
  header: string | string[] | undefined | null;
  /** The request body exactly as received (before any JSON parsing). */
  body: string | Uint8Array;
  /** A signature older or newer than this is refused (replays); default 300 s; 0 turns the check off. */
  toleranceSeconds?: number;
  /** The current time in ms (default Date.now()). */
  now?: number;
}

/** Whether a callback's X-Kirin-Signature was made with `secret` over this body, recently enough. */
export function verifyCallbackSignature(opts: VerifyOptions): boolean {
  const header = Array.isArray(opts.header) ? opts.header[0] : opts.header;
  if (!header) return false;
  let t: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') t = value;
    else if (name === 'v1') signatures.push(value);
  }
  if (!t || !/^\d+$/.test(t) || signatures.length === 0) return false;
  const tolerance = opts.toleranceSeconds ?? 300;
  if (tolerance > 0 && Math.abs((opts.now ?? Date.now()) / 1000 - Number(t)) > tolerance) return false;
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : Buffer.from(opts.body.buffer, opts.body.byteOffset, opts.body.byteLength);
  const expected = createHmac('sha256', opts.secret).update(`${t}.`).update(body).digest();
  return signatures.some((hex) => {
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
}

/** The task object a callback carries, after checking its signature; a KirinError (014001001) when the signature does not hold. */
export function parseCallback(opts: VerifyOptions): Task {
  if (!verifyCallbackSignature(opts)) throw new KirinError(ErrorCode.BadRequest, 'callback signature missing, wrong or too old (X-Kirin-Signature)');
  const text = typeof opts.body === 'string' ? opts.body : Buffer.from(opts.body).toString('utf8');
  try {
    return JSON.parse(text) as Task;
  } catch (e) {
    throw new KirinError(ErrorCode.ResultParsing, `callback body is not JSON: ${(e as Error).message}`, { cause: e });
  }
}
