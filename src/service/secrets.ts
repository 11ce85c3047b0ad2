import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export interface ServiceSecrets {
  /** Signs face-picture URLs. */
  urlSecret: Buffer;
  /** Signs callbacks (X-Kirin-Signature); clients verify with it. */
  callbackSecret: string;
}

/** Secrets kept in the data folder (created on first start, mode 600); KIRIN_CALLBACK_SECRET overrides. */
export function loadSecrets(file: string, env: NodeJS.ProcessEnv = process.env): ServiceSecrets {
  let stored: { url: string; callback: string };
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    stored = { url: randomBytes(32).toString('base64url'), callback: `whsec_${randomBytes(24).toString('base64url')}` };
    writeFileSync(file, JSON.stringify(stored), { mode: 0o600, flag: 'wx' });
  }
  return { urlSecret: Buffer.from(stored.url, 'base64url'), callbackSecret: env.KIRIN_CALLBACK_SECRET || stored.callback };
}
