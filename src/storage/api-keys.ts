import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newId } from './ids.js';
import type { ApiKeyInfo, ApiKeyRepository } from './repositories/api-key.repository.js';

export type { ApiKeyInfo } from './repositories/api-key.repository.js';

/** An API key as printed and presented: `kirin_<12 of the key id>.<32 of the secret>` (unanchored, to find one in output). */
export const API_KEY_PATTERN = /kirin_([a-z0-9]{12})\.([A-Za-z0-9_-]{32})/;
const WHOLE_KEY = new RegExp(`^${API_KEY_PATTERN.source}$`);

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Keys look like `kirin_<key id>.<secret>`: the id finds the row, the secret is stored only as
 * its SHA-256 (keys are long random strings, so a fast hash suffices) and compared in constant time.
 */
export async function createApiKey(keys: ApiKeyRepository, name: string, owner = name): Promise<{ key: string; info: ApiKeyInfo }> {
  const id = newId('key', 12);
  const secret = randomBytes(24).toString('base64url');
  const info = { id, owner, name, created_at: Date.now(), revoked_at: null };
  await keys.insert({ ...info, secret_hash: hash(secret) });
  return { key: `kirin_${id.slice(4)}.${secret}`, info };
}

/** The key's owner, or undefined for an unknown, malformed or revoked key. */
export async function authenticate(keys: ApiKeyRepository, presented: string): Promise<{ owner: string; keyId: string } | undefined> {
  const m = WHOLE_KEY.exec(presented);
  if (!m) return undefined;
  const row = await keys.find(`key_${m[1]}`);
  const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
  const ok = timingSafeEqual(expected, Buffer.from(hash(m[2]), 'hex'));
  if (!row || !ok || row.revoked_at !== null) return undefined;
  return { owner: row.owner, keyId: row.id };
}

export function listApiKeys(keys: ApiKeyRepository): Promise<ApiKeyInfo[]> {
  return keys.list();
}

export function revokeApiKey(keys: ApiKeyRepository, id: string): Promise<boolean> {
  return keys.revoke(id, Date.now());
}
