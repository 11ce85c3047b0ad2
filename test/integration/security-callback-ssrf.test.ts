import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { isForbiddenAddress } from '../../src/net/url-guard.ts';
import { migrate, openSqlite, type Db } from '../../src/storage/database.ts';
import { kyselyRepositories } from '../../src/storage/repositories/index.ts';
import { CallbackQueue } from '../../src/tasks/callbacks.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, assertError, settled, startTestService, waitFor, type TestService } from '../helpers/service.ts';

/**
 * callback_url follows video_url's rules (README, Security): literal non-public addresses, odd
 * address forms, other ports, credentials and other schemes are refused at create; a host name is
 * resolved at delivery, every address checked, the connection pinned; a refused delivery is never
 * sent and is kept as `refused` with its reason.
 */

/** A receiver on 127.0.0.1 that records every request; /redirect answers 302 to the metadata address. */
async function startRecorder() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.url ?? '/');
      if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      else res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('security: callback deliveries are checked, resolved once and pinned', () => {
  let tmp: TempDir;
  let db: Db;
  let rec: Awaited<ReturnType<typeof startRecorder>>;
  const config = { maxAttempts: 1, firstDelayMs: 1000, timeoutMs: 3000 };
  let n = 0;

  /** Every name resolves to the address(es) it is mapped to here. */
  const names: Record<string, string[]> = {
    'loop.test': ['127.0.0.1'],
    'loop2.test': ['127.8.9.10'],
    'v6loop.test': ['::1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'meta.test': ['169.254.169.254'],
    'ten.test': ['10.0.0.5'],
    'lan.test': ['192.168.1.10'],
    'corp.test': ['172.16.4.4'],
    'cgnat.test': ['100.64.0.9'],
    'ula.test': ['fd00::1'],
    'ec2meta.test': ['fd00:ec2::254'],
    'linklocal6.test': ['fe80::1'],
    'nat64.test': ['64:ff9b::127.0.0.1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
  };
  const lookups: string[] = [];
  const lookup = async (host: string) => {
    lookups.push(host);
    const a = names[host];
    if (!a) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a;
  };

  before(async () => {
    tmp = await makeTempDir('kirin-cb-ssrf-');
    db = openSqlite(tmp.file('kirin.db'));
    await migrate(db);
    rec = await startRecorder();
  });
  after(async () => {
    await rec?.close();
    await db?.destroy();
    await tmp?.cleanup();
  });

  /** Queues one callback per URL on `queue`, delivers them, and returns each row once it is no longer pending. */
  async function deliver(queue: CallbackQueue, urls: string[]) {
    const ids = new Map<string, string>();
    for (const url of urls) {
      const taskId = `task_${++n}`;
      ids.set(taskId, url);
      await queue.enqueueIn(kyselyRepositories(db), taskId, url, JSON.stringify({ id: taskId }));
    }
    queue.deliverDue();
    return waitFor(async () => {
      const rows = await db.selectFrom('callbacks').select(['task_id', 'url', 'status', 'last_error', 'attempts']).where('task_id', 'in', [...ids.keys()]).execute();
      return rows.length === ids.size && rows.every((r) => r.status !== 'pending') && rows;
    }, 15_000, 'every delivery to settle');
  }

  it('host names resolving to loopback, private, link-local, metadata, unique-local or mapped addresses: refused, nothing sent', async () => {
    const queue = new CallbackQueue(kyselyRepositories(db), config, 'secret', systemClock, { allowPrivate: false, allowedPorts: [80, 443, rec.port], lookup });
    const urls = Object.keys(names).map((h) => `http://${h}:${rec.port}/${h}`);
    const rows = await deliver(queue, urls);
    for (const row of rows) {
      const host = new URL(row.url).hostname;
      assert.equal(row.status, 'refused', `${row.url}: ${row.last_error}`);
      assert.match(row.last_error ?? '', /URL not allowed: host .* resolves to a private\/loopback\/link-local\/metadata address/, row.url);
      const bad = names[host]!.filter(isForbiddenAddress);
      for (const a of bad) assert.ok(row.last_error!.includes(a), `${row.last_error} names ${a}`);
      assert.equal(row.attempts, 1);
    }
    assert.deepEqual(rec.seen, [], 'the receiver on 127.0.0.1 got nothing');
  });

  it('literal addresses in every form, localhost and other ports stored before the rules (or with other settings): refused at delivery', async () => {
    const queue = new CallbackQueue(kyselyRepositories(db), config, 'secret', systemClock, { allowPrivate: false, allowedPorts: [80, 443, rec.port], lookup });
    const p = rec.port;
    const urls = [
      `http://127.0.0.1:${p}/`,
      `http://127.0.0.1:8903/`,
      `http://localhost:${p}/`,
      `http://api.localhost.:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0x7f.1:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://[::1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://169.254.169.254/latest/meta-data/`,
      `http://[fd00:ec2::254]/`,
      `http://10.0.0.1/`,
      `http://192.168.0.1/`,
      `http://172.16.0.1/`,
      `http://[fd00::1]/`,
      `http://0/`,
      `http://user:pw@loop.test:${p}/`,
      `ftp://example.com/`,
    ];
    const rows = await deliver(queue, urls);
    for (const row of rows) {
      assert.equal(row.status, 'refused', `${row.url}: ${row.last_error}`);
      assert.match(row.last_error ?? '', /URL not allowed|credentials|scheme/, row.url);
    }
    assert.match(rows.find((r) => r.url.includes(':8903'))!.last_error!, /port 8903/);
    assert.deepEqual(rec.seen, [], 'the receiver on 127.0.0.1 got nothing');
  });

  it('an allowed address is delivered, to the address checked (one lookup, later answers never asked), and a redirect is not followed', async () => {
    let asked = 0;
    const rebinding = async (host: string) => (host === 'rebind.test' ? (asked++ === 0 ? ['127.0.0.1'] : ['10.9.9.9']) : lookup(host));
    const queue = new CallbackQueue(kyselyRepositories(db), config, 'secret', systemClock, {
      allowPrivate: false,
      allowedPorts: [80, 443, rec.port],
      allowAddress: (ip) => ip === '127.0.0.1',
      lookup: rebinding,
    });
    const rows = await deliver(queue, [`http://rebind.test:${rec.port}/pinned`, `http://loop.test:${rec.port}/redirect`]);
    const byPath = new Map(rows.map((r) => [new URL(r.url).pathname, r]));
    assert.equal(byPath.get('/pinned')!.status, 'delivered', byPath.get('/pinned')!.last_error ?? '');
    assert.equal(asked, 1, 'the name was resolved once');
    assert.equal(byPath.get('/redirect')!.status, 'failed');
    assert.equal(byPath.get('/redirect')!.last_error, 'HTTP 302 (redirects are not followed)');
    assert.deepEqual(rec.seen.sort(), ['/pinned', '/redirect']);
  });

  it('KIRIN_ALLOW_PRIVATE_URLS=1 (allowPrivate) delivers to a loopback name on any port', async () => {
    const queue = new CallbackQueue(kyselyRepositories(db), config, 'secret', systemClock, { allowPrivate: true, lookup });
    const before = rec.seen.length;
    const [row] = await deliver(queue, [`http://loop.test:${rec.port}/open`]);
    assert.equal(row!.status, 'delivered', row!.last_error ?? '');
    assert.deepEqual(rec.seen.slice(before), ['/open']);
  });
});

describe('security: callback_url through the HTTP API (KIRIN_ALLOW_PRIVATE_URLS unset)', () => {
  let t: TestService;
  let rec: Awaited<ReturnType<typeof startRecorder>>;
  const savedPorts = process.env.KIRIN_URL_PORTS;

  before(async () => {
    rec = await startRecorder();
    // the receiver's port is allowed, so only the address rules stand between a task and it
    process.env.KIRIN_URL_PORTS = `80,443,${rec.port}`;
    t = await startTestService({ KIRIN_ALLOW_PRIVATE_URLS: undefined });
  });
  after(async () => {
    if (savedPorts === undefined) delete process.env.KIRIN_URL_PORTS;
    else process.env.KIRIN_URL_PORTS = savedPorts;
    await t?.close();
    await rec?.close();
  });

  // a URL that passes the create check and fails at once (.invalid never resolves): its task settles failed
  const video_url = 'http://video.invalid/v.mp4';

  it('literal private, loopback, metadata and odd-form addresses, other ports → 400 014001102; credentials, other schemes → 014001001; no task made', async () => {
    const p = rec.port;
    const refused: Array<[string, string]> = [
      ['http://127.0.0.1:8903/', '014001102'],
      [`http://127.0.0.1:${p}/`, '014001102'],
      [`http://localhost:${p}/`, '014001102'],
      ['http://LOCALHOST./', '014001102'],
      ['http://api.localhost/', '014001102'],
      ['http://2130706433/', '014001102'],
      ['http://0x7f000001/', '014001102'],
      ['http://0x7f.1/', '014001102'],
      ['http://0177.0.0.1/', '014001102'],
      ['http://017700000001/', '014001102'],
      ['http://127.1/', '014001102'],
      ['http://0/', '014001102'],
      ['http://[::1]/', '014001102'],
      [`http://[::ffff:127.0.0.1]:${p}/`, '014001102'],
      ['http://[::ffff:a9fe:a9fe]/', '014001102'],
      ['http://169.254.169.254/latest/meta-data/', '014001102'],
      ['http://169.254.169.254./', '014001102'],
      ['http://[fd00:ec2::254]/', '014001102'],
      ['http://100.100.100.200/', '014001102'],
      ['http://10.0.0.1/', '014001102'],
      ['http://10.255.1.2/', '014001102'],
      ['http://192.168.1.1/', '014001102'],
      ['http://172.16.0.1/', '014001102'],
      ['http://[fd00::1]/', '014001102'],
      ['http://[fe80::1]/', '014001102'],
      ['http://[64:ff9b::10.0.0.1]/', '014001102'],
      ['http://224.0.0.1/', '014001102'],
      ['http://example.com:6379/', '014001102'],
      ['http://user:pw@example.com/', '014001001'],
      ['file:///etc/passwd', '014001001'],
      ['gopher://127.0.0.1:6379/_INFO', '014001001'],
      ['not a url', '014001001'],
    ];
    for (const [callback_url, code] of refused) {
      assertError(await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url, callback_url } }), 400, code, callback_url);
    }
    assert.deepEqual((await t.api('GET', '/model/v1/generation')).json.data, []);
    assert.deepEqual(rec.seen, []);
  });

  it('a host name that resolves to a loopback address passes create; its delivery is refused with the reason, nothing is sent', async (ctx) => {
    // This machine's own name usually resolves to a loopback address (/etc/hosts); a test needs one that does.
    const name = hostname();
    const addresses = await dns.lookup(name, { all: true }).then((a) => a.map((x) => x.address), () => [] as string[]);
    if (addresses.length === 0 || !addresses.every(isForbiddenAddress) || name.endsWith('localhost')) {
      ctx.skip(`${name} does not resolve to private addresses only (${addresses.join(', ') || 'no address'})`);
      return;
    }
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url, callback_url: `http://${name}:${rec.port}/hook` } });
    assert.equal(r.status, 200, r.text);
    const task = await settled(t.api, r.json.id, 20_000);
    assert.equal(task.status, 'failed');
    const row = await waitFor(
      () => t.svc.db.selectFrom('callbacks').selectAll().where('task_id', '=', r.json.id).where('status', '!=', 'pending').executeTakeFirst(),
      10_000,
      'the delivery to be decided',
    );
    assert.equal(row.status, 'refused', row.last_error ?? '');
    assert.ok(row.last_error?.includes(addresses[0]!), row.last_error ?? '');
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(rec.seen, [], 'nothing was delivered');
  });
});
