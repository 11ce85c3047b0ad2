import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertError, startTestService, type TestService } from '../helpers/service.ts';

/**
 * Requests refused before any route runs (an over-long path, request line or header, a bad
 * %-escape) answer with the contract's error body and never echo the input back.
 */
describe('service: oversized and malformed request lines', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService();
  });
  after(async () => {
    await t?.close();
  });

  /** Sends `request` as raw bytes and returns everything the server wrote before closing. */
  const rawExchange = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(new URL(t.svc.url).port), '127.0.0.1', () => s.write(request));
      let got = '';
      s.on('data', (c) => (got += c.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
    });

  const marker = (n: number) => `Q${'7'.repeat(n - 1)}`;

  it('a 10 KB task id → 414 with the contract body, not the path', async () => {
    const id = marker(10_000);
    const r = await t.api('GET', `/model/v1/generation/${id}`);
    assertError(r, 414, '014001001', '10 KB id');
    assert.ok(!r.text.includes('Q777'), `no echo: ${r.text.slice(0, 200)}`);
    assert.ok(r.text.length < 300, `a short body (${r.text.length} bytes)`);
  });

  it('a 20 KB task id → 431 with the contract body (Node refuses it before Fastify sees a request)', async () => {
    const r = await t.api('GET', `/model/v1/generation/${marker(20_000)}`);
    assertError(r, 431, '014001001', '20 KB id');
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(!r.text.includes('Q777'));
  });

  it('a 20 KB header line → 431 with the contract body; a malformed request line → 400 with it', async () => {
    const big = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${marker(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, '014001001');
    assert.equal(typeof body.error.error_message, 'string');
    assert.ok(!big.includes('Q777'));

    const bad = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon ${marker(50)}\r\n\r\n`);
    assert.match(bad, /^HTTP\/1\.1 400 /);
    const badBody = JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4));
    assert.equal(badBody.error.code, '014001001');
    assert.ok(!bad.includes('Q777'));
  });

  it('a bad %-escape → 400 without the path in the message', async () => {
    const r = await t.api('GET', `/v1/sessions/%zz${marker(60)}`);
    assertError(r, 400, '014001001', 'bad escape');
    assert.ok(!r.text.includes('Q777'), r.text);
  });

  it('the service still answers', async () => {
    assert.equal((await t.api('GET', '/healthz', { key: null })).status, 200);
  });
});
