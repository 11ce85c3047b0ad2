import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretRepository } from '../storage/repositories/secret.repository.js';

export interface ServiceSecrets {
  /** Signs face-picture URLs. */
  urlSecret: Buffer;
  /** Signs callbacks (X-Kirin-Signature); clients verify with it. */
  callbackSecret: string;
}

interface StoredSecrets {
  url: string;
  callback: string;
}

const newSecrets = (): StoredSecrets => ({ url: randomBytes(32).toString('base64url'), callback: `whsec_${randomBytes(24).toString('base64url')}` });

const toSecrets = (stored: StoredSecrets, env: NodeJS.ProcessEnv): ServiceSecrets => ({
  urlSecret: Buffer.from(stored.url, 'base64url'),
  callbackSecret: env.KIRIN_CALLBACK_SECRET || stored.callback,
});

/** Secrets kept in the data folder (created on first start, mode 600); KIRIN_CALLBACK_SECRET overrides. */
export function loadSecrets(file: string, env: NodeJS.ProcessEnv = process.env): ServiceSecrets {
  let stored: StoredSecrets;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    const made = newSecrets();
    try {
      writeFileSync(file, JSON.stringify(made), { mode: 0o600, flag: 'wx' });
      stored = made;
    } catch (e) {
      // another process on the same data folder wrote it first: use theirs
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      stored = JSON.parse(readFileSync(file, 'utf8'));
    }
  }
  return toSecrets(stored, env);
}

/**
 * Secrets kept in the database, so every API and worker process of a deployment signs alike: the
 * first process to start inserts them, the others keep what is there. KIRIN_CALLBACK_SECRET overrides.
 */
export async function loadSharedSecrets(secrets: SecretRepository, env: NodeJS.ProcessEnv = process.env): Promise<ServiceSecrets> {
  const made = newSecrets();
  await secrets.addMissing([{ name: 'url', value: made.url }, { name: 'callback', value: made.callback }]);
  const rows = await secrets.get(['url', 'callback']);
  const value = (name: string) => rows.find((r) => r.name === name)!.value;
  return toSecrets({ url: value('url'), callback: value('callback') }, env);
}

/**
 * The secrets of the configured deployment: in the database with Postgres (shared by every
 * process), else in the data folder's secrets.json. `stored` is needed only with Postgres.
 */
export async function loadServiceSecrets(config: { databaseUrl: string; dataDir: string }, stored?: SecretRepository): Promise<ServiceSecrets> {
  if (!config.databaseUrl) return loadSecrets(join(config.dataDir, 'secrets.json'));
  if (!stored) throw new Error('the secrets of a Postgres deployment are read from its database');
  return loadSharedSecrets(stored);
}
