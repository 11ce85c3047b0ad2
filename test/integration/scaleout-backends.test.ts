import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { openBackends } from '../../src/service/backends.ts';
import { startService } from '../../src/service/kirin-service.ts';
import { loadSharedSecrets } from '../../src/service/secrets.ts';
import { authenticate, createApiKey, listApiKeys } from '../../src/storage/api-keys.ts';
import { LocalBlobStore } from '../../src/storage/blobs.ts';
import { migrate, openPostgres } from '../../src/storage/database.ts';
import { kyselyRepositories } from '../../src/storage/repositories/index.ts';
import { S3BlobStore, parseS3Url } from '../../src/storage/s3-blobs.ts';
import { CallbackQueue } from '../../src/tasks/callbacks.ts';
import { sweepExpired } from '../../src/tasks/retention.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, embeddedEnv, makeApi, makeFaceVideo, onService, serveFiles, settled } from '../helpers/service.ts';
import { newDeployment, scaleoutSkip, type Deployment } from '../helpers/scaleout.ts';

describe('backends: selected by configuration', () => {
  let tmp: TempDir;
  before(async () => (tmp = await makeTempDir('kirin-backends-')));
  after(async () => tmp?.cleanup());

  it('nothing set: SQLite and local files in the data folder, secrets in secrets.json', async () => {
    const config = loadConfig({ ...embeddedEnv(), KIRIN_DATA_DIR: tmp.file('data') });
    const b = await openBackends(config, 'all');
    try {
      assert.ok(b.blobs instanceof LocalBlobStore);
      assert.equal(b.redis, undefined);
      assert.ok(existsSync(tmp.file('data/kirin.db')));
      assert.ok(existsSync(tmp.file('data/secrets.json')));
    } finally {
      await b.close();
    }
  });

  it('kirin api and kirin worker refuse to start without a shared queue', async () => {
    const config = loadConfig({ ...embeddedEnv(), KIRIN_DATA_DIR: tmp.file('data2') });
    for (const role of ['api', 'worker'] as const) {
      await assert.rejects(openBackends(config, role), /needs their shared queue: set KIRIN_REDIS_URL/);
    }
  });

  it('settings are checked: a database URL that is not postgres://, a storage URL that is not s3://', () => {
    assert.throws(() => openPostgres('mysql://x/y'), /KIRIN_DATABASE_URL must start with postgres:\/\//);
    assert.throws(() => parseS3Url('https://bucket'), /KIRIN_STORAGE_URL must look like s3:\/\/bucket/);
    assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b/' });
  });
});

describe('backends: Postgres and S3 (real servers)', { skip: scaleoutSkip }, () => {
  let dep: Deployment;
  let tmp: TempDir;

  before(async () => {
    dep = await newDeployment('backends');
    tmp = await makeTempDir('kirin-s3-');
  });
  after(async () => {
    await dep?.destroy();
    await tmp?.cleanup();
  });

  it('migrations run on Postgres, also from several processes at once, and again as a no-op', async () => {
    const others = [openPostgres(dep.env.KIRIN_DATABASE_URL!, 2), openPostgres(dep.env.KIRIN_DATABASE_URL!, 2)];
    try {
      await Promise.all([migrate(dep.db), ...others.map((o) => migrate(o))]);
      await migrate(dep.db);
      const tables = await dep.db.introspection.getTables();
      for (const t of ['api_keys', 'videos', 'tasks', 'sessions', 'files', 'callbacks', 'fetched_videos', 'secrets', 'leases']) {
        assert.ok(tables.some((x) => x.name === t), `table ${t}`);
      }
    } finally {
      await Promise.all(others.map((o) => o.destroy()));
    }
  });

  it('rows read back with the same types as on SQLite (bigint times as numbers); keys work', async () => {
    const { key, info } = await createApiKey(kyselyRepositories(dep.db).apiKeys, 'pg-key', 'pg-owner');
    const [row] = (await listApiKeys(kyselyRepositories(dep.db).apiKeys)).filter((k) => k.id === info.id);
    assert.equal(typeof row.created_at, 'number');
    assert.equal(row.created_at, info.created_at);
    assert.equal(row.revoked_at, null);
    assert.deepEqual(await authenticate(kyselyRepositories(dep.db).apiKeys, key), { owner: 'pg-owner', keyId: info.id });
    assert.equal(await authenticate(kyselyRepositories(dep.db).apiKeys, key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')), undefined);
    await dep.db
      .insertInto('videos')
      .values({ id: 'vid_x', owner: 'o', blob_key: 'uploads/x', size_bytes: 5_000_000_000, duration_ms: 8000, width: 1280, height: 720, fps: 29.97, format: 'mp4', created_at: 1, expires_at: 2 })
      .execute();
    const v = await dep.db.selectFrom('videos').selectAll().where('id', '=', 'vid_x').executeTakeFirstOrThrow();
    assert.deepEqual([v.size_bytes, v.fps, v.duration_ms], [5_000_000_000, 29.97, 8000]);
  });

  it('secrets are created once and shared by every process of the deployment', async () => {
    const other = openPostgres(dep.env.KIRIN_DATABASE_URL!, 2);
    try {
      const [a, b] = await Promise.all([loadSharedSecrets(kyselyRepositories(dep.db).secrets, {}), loadSharedSecrets(kyselyRepositories(other).secrets, {})]);
      assert.equal(a.callbackSecret, b.callbackSecret);
      assert.ok(a.urlSecret.equals(b.urlSecret));
      assert.equal(a.urlSecret.length, 32);
      assert.match(a.callbackSecret, /^whsec_/);
      assert.equal((await loadSharedSecrets(kyselyRepositories(dep.db).secrets, { KIRIN_CALLBACK_SECRET: 'from-env' })).callbackSecret, 'from-env');
    } finally {
      await other.destroy();
    }
  });

  it('a lease is held by one holder at a time, renewed by its holder, taken over once expired', async () => {
    const tryLease = (name: string, holder: string, ttlMs: number, now: number) => kyselyRepositories(dep.db).leases.take(name, holder, ttlMs, now);
    assert.equal(await tryLease('job', 'p1', 1000, 10_000), true);
    assert.equal(await tryLease('job', 'p2', 1000, 10_500), false);
    assert.equal(await tryLease('job', 'p1', 1000, 10_600), true, 'renewed by its holder');
    assert.equal(await tryLease('job', 'p2', 1000, 11_599), false);
    assert.equal(await tryLease('job', 'p2', 1000, 11_600), true, 'expired: taken over');
    const racers = await Promise.all(['a', 'b', 'c', 'd'].map((h) => tryLease('race', h, 5000, 50_000)));
    assert.equal(racers.filter(Boolean).length, 1, `one of four at once: ${racers}`);
  });

  it('a callback is queued once per task, however often its enqueue runs', async () => {
    const q = new CallbackQueue(kyselyRepositories(dep.db), { maxAttempts: 1, firstDelayMs: 1000, timeoutMs: 1000 }, 's', { now: () => 1 });
    await Promise.all([1, 2, 3].map(() => kyselyRepositories(dep.db).transaction((tx) => q.enqueueIn(tx, 'task_once', 'http://127.0.0.1:9/x', '{}'))));
    const rows = await dep.db.selectFrom('callbacks').select('id').where('task_id', '=', 'task_once').execute();
    assert.equal(rows.length, 1);
  });

  it('S3 blob store: put moves the file in; read, local copy, exists and delete; keys are checked', async () => {
    const s3 = dep.blobs;
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const file = tmp.file('in.bin');
    await writeFile(file, bytes);
    await s3.putFile('uploads/vid_1.video', file);
    assert.equal(existsSync(file), false, 'the local file was moved into the store');
    assert.equal(await s3.exists('uploads/vid_1.video'), true);
    assert.equal(await s3.exists('uploads/vid_2.video'), false);
    const chunks: Buffer[] = [];
    for await (const c of await s3.read('uploads/vid_1.video')) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(bytes));
    const local = await s3.localPath('uploads/vid_1.video', tmp.file('work'));
    assert.ok(local.startsWith(tmp.file('work')));
    assert.ok((await readFile(local)).equals(bytes));
    assert.deepEqual(await dep.objects('uploads/'), ['uploads/vid_1.video'], 'stored under the deployment prefix');
    assert.equal(await s3.directUrl('uploads/vid_1.video', 60), undefined, 'no presigned URLs unless KIRIN_S3_PRESIGN=1');
    await s3.delete('uploads/vid_1.video');
    await s3.delete('uploads/vid_1.video'); // deleting what is gone is fine
    assert.equal(await s3.exists('uploads/vid_1.video'), false);
    await assert.rejects(s3.exists('../escape'), /invalid blob key/);
    await assert.rejects(s3.read('a//b'), /invalid blob key/);
  });

  it('S3 with KIRIN_S3_PRESIGN=1 hands out presigned URLs that the S3 server answers', async () => {
    const presigning = new S3BlobStore({ ...dep.config.storage, presign: true }, tmp.dir);
    try {
      const file = tmp.file('pic.jpg');
      await writeFile(file, 'jpeg bytes');
      await presigning.putFile('faces/sess_x/0.jpg', file);
      const url = await presigning.directUrl('faces/sess_x/0.jpg', 60);
      assert.match(String(url), /X-Amz-Signature=/);
      const r = await fetch(url!);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'jpeg bytes');
      assert.match(url!, /X-Amz-Expires=60\b/, 'valid only briefly');
      await presigning.delete('faces/sess_x/0.jpg');
    } finally {
      presigning.close();
    }
  });

  it('npm start with every scale-out setting: one process serves and analyses on Postgres, Redis and S3', async () => {
    const config = loadConfig({ ...dep.env, PORT: '0', KIRIN_DATA_DIR: tmp.file('unused-data') });
    const svc = await startService(config);
    const files = await serveFiles(tmp.dir);
    const { key } = await createApiKey(svc.repositories.apiKeys, 'all-in-one');
    try {
      assert.ok(svc.blobs instanceof S3BlobStore);
      const api = makeApi(svc.url, key);
      const video = await makeFaceVideo(tmp, 'one');
      const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: files.fileUrl(video) } });
      assert.equal(r.status, 200, r.text);
      const task = await settled(api, r.json.id, 120_000);
      assert.equal(task.status, 'completed', JSON.stringify(task.error));
      const face = JSON.parse(task.output[0].content[0].text).data.face_data[0];
      assert.deepEqual([face.face_id, face.start_time, face.end_time], ['0', 500, 3000]);
      const picture = await fetch(onService(face.face_image, svc.url));
      assert.equal(picture.status, 200);
      assert.equal(existsSync(tmp.file('unused-data')), false, 'nothing is written to the data folder');
      const ready = await api('GET', '/readyz', { key: null });
      assert.deepEqual(ready.json, { status: 'ready' });
    } finally {
      await files.close();
      await svc.close();
    }
  });

  it('the retention sweep deletes expired rows and their S3 objects', async () => {
    const file = tmp.file('old.jpg');
    await writeFile(file, 'old');
    await dep.blobs.putFile('faces/sess_old/0.jpg', file);
    await dep.db.insertInto('sessions').values({ id: 'sess_old', owner: 'o', task_id: 't', data: '{}', created_at: 0, expires_at: 1000 }).execute();
    await dep.db.insertInto('files').values({ id: 'file_old', session_id: 'sess_old', blob_key: 'faces/sess_old/0.jpg', content_type: 'image/jpeg', created_at: 0, expires_at: 1000 }).execute();
    const counts = await sweepExpired(kyselyRepositories(dep.db), dep.blobs, { now: () => 2000 });
    assert.equal(counts.files, 1);
    assert.equal(counts.sessions, 1);
    assert.equal(await dep.blobs.exists('faces/sess_old/0.jpg'), false);
  });
});
