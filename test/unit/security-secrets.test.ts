import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UrlSigner } from '../../src/api/signed-urls.ts';
import { authenticate, createApiKey, revokeApiKey } from '../../src/storage/api-keys.ts';
import { KyselyApiKeyRepository } from '../../src/storage/repositories/api-key.repository.ts';
import { LocalBlobStore } from '../../src/storage/blobs.ts';
import { migrate, openSqlite, type Db } from '../../src/storage/database.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';

/** Keys, picture signatures and blob keys (README, Security). */

describe('signed picture URLs', () => {
  const signer = new UrlSigner(randomBytes(32), 'https://kirin.example');
  const now = Date.UTC(2025, 0, 1);
  const parse = (url: string) => {
    const u = new URL(url);
    return { file: /\/files\/(file_\w+)\.jpg$/.exec(u.pathname)![1]!, exp: Number(u.searchParams.get('exp')), sig: u.searchParams.get('sig')! };
  };
  const a = parse(signer.url('file_aaaaaaaaaaaaaaaaaaaa', now + 3_600_000));

  it('verify only the file they were made for, until they expire', () => {
    assert.equal(signer.verify(a.file, a.exp, a.sig, now), true);
    assert.equal(signer.verify('file_bbbbbbbbbbbbbbbbbbbb', a.exp, a.sig, now), false, 'bound to the file');
    assert.equal(signer.verify(a.file, a.exp + 3600, a.sig, now), false, 'a later expiry cannot be written in');
    assert.equal(signer.verify(a.file, a.exp, a.sig, a.exp * 1000 + 1), false, 'expired');
  });

  it('refuse tampered, truncated, empty and foreign signatures without throwing', () => {
    const flipped = (a.sig[0] === 'A' ? 'B' : 'A') + a.sig.slice(1);
    for (const sig of [flipped, a.sig.slice(0, -1), `${a.sig}x`, '', 'é'.repeat(a.sig.length)]) {
      assert.equal(signer.verify(a.file, a.exp, sig, now), false, JSON.stringify(sig));
    }
    const other = parse(new UrlSigner(randomBytes(32), 'https://kirin.example').url(a.file, now + 3_600_000));
    assert.equal(signer.verify(a.file, other.exp, other.sig, now), false, 'another secret');
    assert.equal(signer.verify(a.file, Number.NaN, a.sig, now), false);
    assert.equal(signer.verify(a.file, a.exp + 0.5, a.sig, now), false);
  });
});

describe('API keys at rest', () => {
  let tmp: TempDir;
  let db: Db;

  before(async () => {
    tmp = await makeTempDir('kirin-keys-');
    db = openSqlite(tmp.file('kirin.db'));
    await migrate(db);
  });
  after(async () => {
    await db?.destroy();
    await tmp?.cleanup();
  });
  const keys = () => new KyselyApiKeyRepository(db);

  it('the database holds a SHA-256 of the secret, never the key or its secret', async () => {
    const { key, info } = await createApiKey(keys(), 'studio');
    const secret = key.split('.')[1]!;
    const rows = await db.selectFrom('api_keys').selectAll().execute();
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(secret) && !dump.includes(key), 'no plaintext secret at rest');
    const row = rows.find((r) => r.id === info.id)!;
    assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(await authenticate(keys(), key), { owner: 'studio', keyId: info.id });
  });

  it('a wrong secret, a key of another id, a malformed key or a revoked key authenticates nothing', async () => {
    const { key, info } = await createApiKey(keys(), 'victim');
    const [prefix, secret] = key.split('.') as [string, string];
    const wrong = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    for (const k of [`${prefix}.${wrong}`, `kirin_${'z'.repeat(12)}.${secret}`, `${key} `, key.slice(0, -1), '', `${prefix}.${secret}.${secret}`]) {
      assert.equal(await authenticate(keys(), k), undefined, JSON.stringify(k));
    }
    assert.ok(await revokeApiKey(keys(), info.id));
    assert.equal(await authenticate(keys(), key), undefined, 'revoked');
  });
});

describe('blob keys cannot leave the store', () => {
  let tmp: TempDir;
  let store: LocalBlobStore;

  before(async () => {
    tmp = await makeTempDir('kirin-blobs-');
    store = new LocalBlobStore(tmp.file('blobs'));
  });
  after(async () => {
    await tmp?.cleanup();
  });

  it('refuses traversal, absolute, encoded and odd keys; accepts its own', async () => {
    for (const key of ['../secrets.json', 'faces/../../kirin.db', '/etc/passwd', 'faces/..', 'faces/%2e%2e/x', 'faces\\..\\x', '', 'faces//x', 'faces/x\u0000.jpg', '..']) {
      await assert.rejects(store.localPath(key, tmp.dir), /invalid blob key/, JSON.stringify(key));
      await assert.rejects(store.delete(key), /invalid blob key/, `delete ${JSON.stringify(key)}`);
    }
    assert.equal(await store.localPath('faces/sess_abc/0.jpg', tmp.dir), tmp.file('blobs/faces/sess_abc/0.jpg'));
  });
});
