import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { checkUrlAllowedStatic, downloadDefaults, downloadVideo, isForbiddenAddress, parseVideoUrl } from '../../src/media/download.ts';
import { hasCode } from '../helpers/assert-error.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { MODEL, assertError, settled, startTestService, type TestService } from '../helpers/service.ts';

/**
 * Server-side request forgery (README, Security), beyond download.test.ts and
 * download-address.test.ts: DNS rebinding against the pinned address, every redirect checked
 * like the first URL, the configured port list, and the same rules through the HTTP API.
 */

const BODY = randomBytes(10_000);

describe('security: SSRF in the fetcher', () => {
  let server: http.Server;
  let port = 0;
  let tmp: TempDir;
  const seen: string[] = [];
  let n = 0;
  const dest = () => tmp.file(`dl-${++n}.bin`);

  before(async () => {
    tmp = await makeTempDir('kirin-ssrf-');
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push(path);
      const to = (location: string) => {
        res.writeHead(302, { location });
        res.end();
      };
      if (path === '/video') {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': BODY.length });
        res.end(BODY);
      } else if (path === '/to-port-22') to(`http://video.test:22/video`);
      else if (path === '/to-credentials') to(`http://user:secret@video.test:${port}/video`);
      else if (path === '/to-hex-loopback') to(`http://0x7f000002:${port}/video`);
      else if (path === '/to-mapped-metadata') to(`http://[::ffff:169.254.169.254]:${port}/video`);
      else if (path === '/to-dotted-name') to(`http://internal.test.:${port}/video`);
      else if (path === '/to-cgnat') to(`http://100.64.1.1:${port}/video`);
      else if (path === '/to-multicast') to(`http://224.0.0.251:${port}/video`);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await tmp.cleanup();
  });

  /** Every check on; only the local test server's address is let through. */
  const strict = (lookup: (host: string) => Promise<string[]>) => ({
    allowPrivate: false,
    allowedPorts: [80, 443, port],
    allowAddress: (ip: string) => ip === '127.0.0.1',
    lookup,
  });
  const names = async (host: string) => {
    if (host === 'video.test') return ['127.0.0.1'];
    if (host === 'internal.test') return ['10.1.2.3'];
    throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };

  it('DNS rebinding: the name is resolved once per hop and the connection goes to the address that was checked', async () => {
    const answers: string[][] = [['127.0.0.1'], ['10.9.9.9'], ['169.254.169.254']];
    const asked: string[] = [];
    const rebinding = async (host: string) => {
      asked.push(host);
      return answers[Math.min(asked.length - 1, answers.length - 1)]!;
    };
    const file = dest();
    const r = await downloadVideo(`http://rebind.test:${port}/video`, file, strict(rebinding));
    assert.equal(r.bytes, BODY.length);
    assert.deepEqual(asked, ['rebind.test'], 'one lookup: the later (private) answers were never asked for');
    assert.ok((await readFile(file)).equals(BODY));
  });

  it('a name whose answers mix public and private addresses is refused (any private one suffices)', async () => {
    await assert.rejects(
      downloadVideo('http://mixed.test/video', dest(), { lookup: async () => ['93.184.216.34', '127.0.0.1'] }),
      hasCode(ErrorCode.UrlNotAllowed, ['127.0.0.1']),
    );
  });

  const redirects: Array<[string, string, string[]]> = [
    ['/to-port-22', ErrorCode.UrlNotAllowed, ['port 22']],
    ['/to-hex-loopback', ErrorCode.UrlNotAllowed, ['127.0.0.2']],
    ['/to-mapped-metadata', ErrorCode.UrlNotAllowed, ['::ffff:a9fe:a9fe']],
    ['/to-dotted-name', ErrorCode.UrlNotAllowed, ['internal.test', '10.1.2.3']],
    ['/to-cgnat', ErrorCode.UrlNotAllowed, ['100.64.1.1']],
    ['/to-multicast', ErrorCode.UrlNotAllowed, ['224.0.0.251']],
    ['/to-credentials', ErrorCode.DownloadFailed, ['credentials']],
  ];
  for (const [path, code, words] of redirects) {
    it(`a redirect ${path.slice(4)} is checked like a first URL → ${code}, and not followed`, async () => {
      const before = seen.length;
      const file = dest();
      await assert.rejects(downloadVideo(`http://video.test:${port}${path}`, file, strict(names)), hasCode(code, words));
      assert.deepEqual(seen.slice(before), [path], 'only the first hop reached a server');
      assert.equal(existsSync(file), false);
    });
  }

  it('KIRIN_URL_PORTS replaces the default ports 80 and 443', () => {
    const saved = process.env.KIRIN_URL_PORTS;
    try {
      process.env.KIRIN_URL_PORTS = '443, 8443';
      assert.deepEqual(downloadDefaults().allowedPorts, [443, 8443]);
      checkUrlAllowedStatic(parseVideoUrl('https://cdn.example.com:8443/v.mp4'), { allowPrivate: false });
      checkUrlAllowedStatic(parseVideoUrl('https://cdn.example.com/v.mp4'), { allowPrivate: false });
      for (const raw of ['http://cdn.example.com/v.mp4', 'http://cdn.example.com:8080/v.mp4']) {
        assert.throws(() => checkUrlAllowedStatic(parseVideoUrl(raw), { allowPrivate: false }), hasCode(ErrorCode.UrlNotAllowed, ['port']), raw);
      }
      delete process.env.KIRIN_URL_PORTS;
      assert.deepEqual(downloadDefaults().allowedPorts, [80, 443]);
    } finally {
      if (saved === undefined) delete process.env.KIRIN_URL_PORTS;
      else process.env.KIRIN_URL_PORTS = saved;
    }
  });
});

describe('security: SSRF through the HTTP API (KIRIN_ALLOW_PRIVATE_URLS unset)', () => {
  let t: TestService;

  before(async () => {
    t = await startTestService({ KIRIN_ALLOW_PRIVATE_URLS: undefined });
  });
  after(async () => {
    await t?.close();
  });

  const refusedAtCreate: Array<[string, string]> = [
    ['http://0x7f.1/v.mp4', '014001102'],
    ['http://0177.0.0.1/v.mp4', '014001102'],
    ['http://127.1/v.mp4', '014001102'],
    ['http://169.254.169.254./latest/meta-data/', '014001102'],
    ['http://[::ffff:169.254.169.254]/', '014001102'],
    ['http://[::ffff:a9fe:a9fe]/', '014001102'],
    ['http://[fd00:ec2::254]/', '014001102'],
    ['http://100.100.100.200/', '014001102'],
    ['http://[ff02::1]/', '014001102'],
    ['http://api.localhost./v.mp4', '014001102'],
    ['http://example.com:6379/', '014001102'],
    ['http://user:pw@example.com/v.mp4', '014001001'],
    ['file:///etc/passwd', '014001001'],
    ['gopher://127.0.0.1:6379/_INFO', '014001001'],
  ];

  it('literal private, metadata, odd-form and wrong-port URLs → 400 014001102; credentials and other schemes → 400 014001001; no task made', async () => {
    for (const [video_url, code] of refusedAtCreate) {
      assertError(await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url } }), 400, code, video_url);
      assertError(await t.api('POST', '/v1/videos/identify-face', { body: { video_url } }), 400, code, `sync ${video_url}`);
    }
    assert.deepEqual((await t.api('GET', '/model/v1/generation')).json.data, []);
  });

  it('a host name that resolves to a loopback address passes the create check but the task fails 014001102 after DNS', async (ctx) => {
    // This machine's own name usually resolves to a loopback address (/etc/hosts); a test needs one that does.
    const name = hostname();
    const addresses = await dns.lookup(name, { all: true }).then((a) => a.map((x) => x.address), () => [] as string[]);
    if (addresses.length === 0 || !addresses.every(isForbiddenAddress) || name.endsWith('localhost')) {
      ctx.skip(`${name} does not resolve to private addresses only (${addresses.join(', ') || 'no address'})`);
      return;
    }
    const r = await t.api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `http://${name}/v.mp4` } });
    assert.equal(r.status, 200, r.text);
    const task = await settled(t.api, r.json.id, 20_000);
    assert.equal(task.error?.code, '014001102', JSON.stringify(task.error));
    assert.match(task.error.error_message, new RegExp(addresses[0]!.replace(/[.:]/g, '\\$&')));
  });
});
