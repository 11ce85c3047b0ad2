import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { downloadVideo } from '../../src/media/download.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { hasCode } from '../helpers/assert-error.ts';


const BODY = randomBytes(50_000);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One local server; routes by path. Records every request it sees. */
function routes(port: () => number): Record<string, Handler> {
  return {
    '/video.mp4': (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': BODY.length });
      res.end(BODY);
    },
    '/missing': (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    },
    '/r1': (_req, res) => redirect(res, 301, '/r2'),
    '/r2': (_req, res) => redirect(res, 302, `http://127.0.0.1:${port()}/r3`),
    '/r3': (_req, res) => redirect(res, 307, 'video.mp4?from=r3'),
    '/to-metadata': (_req, res) => redirect(res, 302, 'http://169.254.169.254/latest/meta-data'),
    '/to-internal-name': (_req, res) => redirect(res, 302, `http://internal.test:${port()}/video.mp4`),
    '/to-ftp': (_req, res) => redirect(res, 302, 'ftp://example.com/v.mp4'),
    '/huge-declared': (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 5_000_000 });
      res.write(Buffer.alloc(10)); // then nothing: the client must not wait for the rest
      res.flushHeaders();
    },
    '/chunked-endless': (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' }); // chunked, no length
      const t = setInterval(() => {
        if (res.destroyed || res.writableEnded) return clearInterval(t);
        res.write(Buffer.alloc(300, 1));
      }, 2);
      res.on('close', () => clearInterval(t));
    },
    '/head-only': (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 1000 });
      res.flushHeaders();
    },
    '/silent': () => {
      /* never answers */
    },
    '/trickle': (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const t = setInterval(() => res.write(Buffer.alloc(10)), 20);
      res.on('close', () => clearInterval(t));
    },
    '/cut-short': (req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 1000 });
      res.write(Buffer.alloc(100), () => req.socket.destroy());
    },
  };
}

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location });
  res.end();
}

describe('downloadVideo against local servers', () => {
  let server: http.Server;
  let port = 0;
  let base = '';
  let tmp: TempDir;
  const seen: Array<{ path: string; host: string | undefined }> = [];
  let fileNo = 0;
  const dest = () => tmp.file(`dl-${++fileNo}.mp4`);
  /** allowPrivate=false with every check on, but the local server's address exempted. */
  const strictLocal = (extra: Record<string, unknown> = {}) => ({
    allowPrivate: false,
    allowedPorts: [80, 443, port],
    allowAddress: (ip: string) => ip === '127.0.0.1',
    lookup: async (host: string) => {
      if (host === 'video.test') return ['127.0.0.1'];
      if (host === 'internal.test') return ['10.0.0.1'];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    },
    ...extra,
  });

  before(async () => {
    tmp = await makeTempDir('kirin-dl-');
    const table = routes(() => port);
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({ path, host: req.headers.host });
      const h = table[path];
      if (h) h(req, res);
      else {
        res.writeHead(500);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await tmp.cleanup();
  });

  it('downloads a file (allowPrivate=true lets 127.0.0.1 through)', async () => {
    const file = dest();
    const r = await downloadVideo(`${base}/video.mp4`, file, { allowPrivate: true });
    assert.equal(r.bytes, BODY.length);
    assert.equal(r.finalUrl, `${base}/video.mp4`);
    assert.equal(r.contentType, 'video/mp4');
    assert.ok((await readFile(file)).equals(BODY));
  });

  it('refuses 127.0.0.1 when allowPrivate=false, before connecting', async () => {
    const before = seen.length;
    await assert.rejects(
      downloadVideo(`${base}/video.mp4`, dest(), { allowPrivate: false, allowedPorts: [port] }),
      hasCode(ErrorCode.UrlNotAllowed, ['127.0.0.1']),
    );
    assert.equal(seen.length, before, 'the server was contacted');
  });

  it('refuses a non-allowed port when allowPrivate=false', async () => {
    await assert.rejects(
      downloadVideo(`${base}/video.mp4`, dest(), { allowPrivate: false }),
      hasCode(ErrorCode.UrlNotAllowed, [`port ${port}`]),
    );
  });

  it('connects to the checked address (pinned) and keeps the Host header', async () => {
    // "video.test" does not resolve in the system DNS: success proves no second lookup happened.
    const file = dest();
    const r = await downloadVideo(`http://video.test:${port}/video.mp4`, file, strictLocal());
    assert.equal(r.bytes, BODY.length);
    assert.equal(seen.at(-1)?.host, `video.test:${port}`);
    assert.ok((await readFile(file)).equals(BODY));
  });

  it('HTTP 404 → 014001101 naming the status', async () => {
    const file = dest();
    await assert.rejects(downloadVideo(`${base}/missing`, file, { allowPrivate: true }), hasCode(ErrorCode.DownloadFailed, ['HTTP 404']));
    assert.equal(existsSync(file), false);
  });

  it('follows a redirect chain (absolute and relative Locations) and reports the final URL', async () => {
    const file = dest();
    const r = await downloadVideo(`${base}/r1`, file, { allowPrivate: true });
    assert.equal(r.finalUrl, `${base}/video.mp4?from=r3`);
    assert.equal(r.bytes, BODY.length);
    assert.deepEqual(seen.slice(-4).map((s) => s.path), ['/r1', '/r2', '/r3', '/video.mp4']);
  });

  it('too many redirects → 014001101', async () => {
    await assert.rejects(
      downloadVideo(`${base}/r1`, dest(), { allowPrivate: true, maxRedirects: 2 }),
      hasCode(ErrorCode.DownloadFailed, ['too many redirects', 'more than 2']),
    );
  });

  it('a redirect to the metadata address → 014001102 (first hop allowed)', async () => {
    const before = seen.length;
    await assert.rejects(
      downloadVideo(`http://video.test:${port}/to-metadata`, dest(), strictLocal()),
      hasCode(ErrorCode.UrlNotAllowed, ['169.254.169.254']),
    );
    assert.deepEqual(seen.slice(before).map((s) => s.path), ['/to-metadata']);
  });

  it('a redirect to a name resolving to a private address → 014001102', async () => {
    const before = seen.length;
    await assert.rejects(
      downloadVideo(`http://video.test:${port}/to-internal-name`, dest(), strictLocal()),
      hasCode(ErrorCode.UrlNotAllowed, ['internal.test', '10.0.0.1']),
    );
    assert.deepEqual(seen.slice(before).map((s) => s.path), ['/to-internal-name']);
  });

  it('a redirect to a non-http scheme → 014001101', async () => {
    await assert.rejects(downloadVideo(`${base}/to-ftp`, dest(), { allowPrivate: true }), hasCode(ErrorCode.DownloadFailed, ['ftp']));
  });

  it('a name resolving to 10.0.0.1 → 014001102; any forbidden address among several refuses', async () => {
    await assert.rejects(
      downloadVideo('https://cdn.example.com/v.mp4', dest(), { lookup: async () => ['10.0.0.1'] }),
      hasCode(ErrorCode.UrlNotAllowed, ['cdn.example.com', '10.0.0.1']),
    );
    await assert.rejects(
      downloadVideo('https://cdn.example.com/v.mp4', dest(), { lookup: async () => ['93.184.216.34', 'fd00:ec2::254'] }),
      hasCode(ErrorCode.UrlNotAllowed, ['fd00:ec2::254']),
    );
  });

  it('literal forbidden hosts → 014001102 without any lookup', async () => {
    for (const raw of ['http://127.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://[::ffff:127.0.0.1]/', 'http://localhost./', 'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/']) {
      await assert.rejects(
        downloadVideo(raw, dest(), { lookup: async () => assert.fail('lookup called') }),
        hasCode(ErrorCode.UrlNotAllowed),
        raw,
      );
    }
  });

  it('bad URLs → 014001001', async () => {
    for (const raw of ['ftp://x', 'not a url', 'http://user:pw@host/']) {
      await assert.rejects(downloadVideo(raw, dest()), hasCode(ErrorCode.BadRequest), raw);
    }
  });

  it('Content-Length over the limit → 014001103 at once, body not read', async () => {
    const file = dest();
    const t0 = Date.now();
    await assert.rejects(
      downloadVideo(`${base}/huge-declared`, file, { allowPrivate: true, maxBytes: 1000, readTimeoutMs: 5000 }),
      hasCode(ErrorCode.FileTooLarge, ['5000000', '1000']),
    );
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(existsSync(file), false);
  });

  it('a chunked body over the limit → 014001103, reading stopped, partial file removed', async () => {
    const file = dest();
    await assert.rejects(
      downloadVideo(`${base}/chunked-endless`, file, { allowPrivate: true, maxBytes: 1000 }),
      hasCode(ErrorCode.FileTooLarge, ['file larger than 1000 bytes', 'stopped reading at']),
    );
    assert.equal(existsSync(file), false);
  });

  it('headers but no body → read timeout 014001101', async () => {
    const file = dest();
    await assert.rejects(
      downloadVideo(`${base}/head-only`, file, { allowPrivate: true, readTimeoutMs: 200 }),
      hasCode(ErrorCode.DownloadFailed, ['read timeout', '200 ms']),
    );
    assert.equal(existsSync(file), false);
  });

  it('no response at all → read timeout 014001101', async () => {
    await assert.rejects(
      downloadVideo(`${base}/silent`, dest(), { allowPrivate: true, readTimeoutMs: 200 }),
      hasCode(ErrorCode.DownloadFailed, ['read timeout']),
    );
  });

  it('a hanging DNS lookup → connect timeout 014001101', async () => {
    await assert.rejects(
      downloadVideo('https://slow-dns.example.com/v.mp4', dest(), { connectTimeoutMs: 150, lookup: () => new Promise<string[]>(() => {}) }),
      hasCode(ErrorCode.DownloadFailed, ['connect timeout', '150 ms']),
    );
  });

  it('a trickling body → total timeout 014001101', async () => {
    const file = dest();
    await assert.rejects(
      downloadVideo(`${base}/trickle`, file, { allowPrivate: true, totalTimeoutMs: 300 }),
      hasCode(ErrorCode.DownloadFailed, ['total timeout', '300 ms']),
    );
    assert.equal(existsSync(file), false);
  });

  it('a connection closed mid-body → 014001101, partial file removed', async () => {
    const file = dest();
    await assert.rejects(downloadVideo(`${base}/cut-short`, file, { allowPrivate: true }), hasCode(ErrorCode.DownloadFailed));
    assert.equal(existsSync(file), false);
  });

  it('connection refused → 014001101', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      downloadVideo(`http://127.0.0.1:${deadPort}/v.mp4`, dest(), { allowPrivate: true }),
      hasCode(ErrorCode.DownloadFailed, ['connection refused']),
    );
  });

  it('DNS failure → 014001101', async () => {
    await assert.rejects(
      downloadVideo(`http://nowhere.test:${port}/v.mp4`, dest(), strictLocal()),
      hasCode(ErrorCode.DownloadFailed, ['DNS lookup', 'nowhere.test', 'ENOTFOUND']),
    );
  });

  it('a TLS failure (https to a plain-http server) → 014001101', async () => {
    await assert.rejects(
      downloadVideo(`https://127.0.0.1:${port}/video.mp4`, dest(), { allowPrivate: true }),
      hasCode(ErrorCode.DownloadFailed, ['TLS']),
    );
  });

  it('abort via signal rejects with the reason and removes the partial file', async () => {
    const file = dest();
    const ac = new AbortController();
    const reason = new Error('cancelled by owner');
    setTimeout(() => ac.abort(reason), 100);
    await assert.rejects(downloadVideo(`${base}/trickle`, file, { allowPrivate: true, signal: ac.signal }), (e) => e === reason);
    assert.equal(existsSync(file), false);

    const pre = new AbortController();
    pre.abort(reason);
    await assert.rejects(downloadVideo(`${base}/video.mp4`, dest(), { allowPrivate: true, signal: pre.signal }), (e) => e === reason);
  });
});
