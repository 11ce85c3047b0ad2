import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './database.js';
import { newId } from './ids.js';

export interface ApiKeyInfo {
  id: string;
  owner: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

/** An API key as printed and presented: `kirin_<12 of the key id>.<32 of the secret>` (unanchored, to find one in output). */
export const API_KEY_PATTERN = /kirin_([a-z0-9]{12})\.([A-Za-z0-9_-]{32})/;
const WHOLE_KEY = new RegExp(`^${API_KEY_PATTERN.source}$`);

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Keys look like `kirin_<key id>.<secret>`: the id finds the row, the secret is stored only as
 * its SHA-256 (keys are long random strings, so a fast hash suffices) and compared in constant time.
 */
export async function createApiKey(db: Db, name: string, owner = name): Promise<{ key: string; info: ApiKeyInfo }> {
  const id = newId('key', 12);
  const secret = randomBytes(24).toString('base64url');
  const info = { id, owner, name, created_at: Date.now(), revoked_at: null };
  await db.insertInto('api_keys').values({ ...info, secret_hash: hash(secret) }).execute();
  return { key: `kirin_${id.slice(4)}.${secret}`, info };
}

/** The key's owner, or undefined for an unknown, malformed or revoked key. */
export async function authenticate(db: Db, presented: string): Promise<{ owner: string; keyId: string } | undefined> {
  const m = WHOLE_KEY.exec(presented);
  if (!m) return undefined;
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', `key_${m[1]}`).executeTakeFirst();
  const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
  const ok = timingSafeEqual(expected, Buffer.from(hash(m[2]), 'hex'));
  if (!row || !ok || row.revoked_at !== null) return undefined;
  return { owner: row.owner, keyId: row.id };
}

export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  return db.selectFrom('api_keys').select(['id', 'owner', 'name', 'created_at', 'revoked_at']).orderBy('created_at').execute();
}

export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function countApiKeys(db: Db): Promise<number> {
  const r = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
