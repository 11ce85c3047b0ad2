import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { checkUrlAllowedStatic, isForbiddenAddress, parseVideoUrl } from '../../src/media/download.ts';
import { hasCode } from '../helpers/assert-error.ts';


describe('isForbiddenAddress', () => {
  const forbidden: Record<string, string[]> = {
    'this network 0/8': ['0.0.0.0', '0.1.2.3', '0.255.255.255'],
    'private 10/8': ['10.0.0.0', '10.0.0.1', '10.255.255.255'],
    'CGNAT 100.64/10': ['100.64.0.0', '100.100.100.100', '100.127.255.255'],
    'loopback 127/8': ['127.0.0.1', '127.0.0.0', '127.255.255.254', '127.1.2.3'],
    'link-local 169.254/16': ['169.254.0.1', '169.254.255.255'],
    'metadata': ['169.254.169.254', 'fd00:ec2::254', '[fd00:ec2::254]'],
    'private 172.16/12': ['172.16.0.0', '172.20.1.1', '172.31.255.255'],
    'private 192.168/16': ['192.168.0.0', '192.168.1.1', '192.168.255.255'],
    'multicast 224/4': ['224.0.0.1', '239.255.255.250'],
    'reserved 240/4 and broadcast': ['240.0.0.1', '250.1.2.3', '255.255.255.255'],
    'other special-purpose IPv4': ['192.0.0.8', '192.0.2.1', '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9'],
    'IPv6 unspecified and loopback': ['::', '::1', '0:0:0:0:0:0:0:1', '[::1]'],
    'unique local fc00::/7': ['fc00::1', 'fd12:3456:789a::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    'link-local fe80::/10': ['fe80::1', 'febf::1', 'fe80::1%eth0', 'FE80::ABCD'],
    'site-local fec0::/10': ['fec0::1'],
    'multicast ff00::/8': ['ff02::1', 'ff05::1:3', 'ff0e::1'],
    'IPv4-mapped': ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:c0a8:0101', '::ffff:0.0.0.0'],
    'IPv4-translated ::ffff:0:0/96': ['::ffff:0:127.0.0.1', '::ffff:0:a00:1'],
    'IPv4-compatible': ['::127.0.0.1', '::10.0.0.1', '::a9fe:a9fe'],
    'NAT64 64:ff9b::/96': ['64:ff9b::127.0.0.1', '64:ff9b::a00:1', '64:ff9b::169.254.169.254', '64:ff9b::c0a8:1'],
    'local-use NAT64 64:ff9b:1::/48': ['64:ff9b:1::8.8.8.8'],
    '6to4 of a private address': ['2002:a00:1::1', '2002:7f00:1::'],
    'documentation and discard IPv6': ['2001:db8::1', '100::1'],
    'non-canonical IPv4 (normalised like the URL parser)': ['127.1', '2130706433', '0x7f000001', '0x7f.1', '017700000001'],
    'not an address at all (fail closed)': ['', 'localhost', 'example.com', '1.2.3.4.5', '::g', '1:2:3'],
  };
  for (const [range, ips] of Object.entries(forbidden)) {
    it(`forbids ${range}`, () => {
      for (const ip of ips) assert.equal(isForbiddenAddress(ip), true, ip);
    });
  }

  it('allows public addresses, including the edges of forbidden ranges', () => {
    for (const ip of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '223.255.255.255',
      '2606:4700::1',
      '2001:4860:4860::8888',
      '2a00:1450:4001:81b::200e',
      '[2606:4700::1111]',
      '::ffff:8.8.8.8',
      '64:ff9b::8.8.8.8',
      '2002:808:808::1',
      'fbff::1',
      'fe00::1',
    ]) {
      assert.equal(isForbiddenAddress(ip), false, ip);
    }
  });
});

describe('parseVideoUrl', () => {
  it('accepts http and https URLs and returns a URL', () => {
    assert.equal(parseVideoUrl('https://cdn.example.com/a/clip.mp4?x=1').href, 'https://cdn.example.com/a/clip.mp4?x=1');
    assert.equal(parseVideoUrl('  http://example.com:8080/v.mov ').port, '8080');
  });

  it('refuses non-strings, malformed URLs, other schemes, credentials with 014001001', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'string'],
      [null, 'string'],
      [42, 'string'],
      [{ href: 'http://x/' }, 'string'],
      ['', 'empty'],
      ['not a url', 'not a valid'],
      ['/relative/path.mp4', 'not a valid'],
      ['ftp://x', 'scheme "ftp"'],
      ['file:///etc/passwd', 'scheme "file"'],
      ['javascript:alert(1)', 'scheme "javascript"'],
      ['data:video/mp4;base64,AAAA', 'scheme "data"'],
      ['http://user:pw@host/', 'credentials'],
      ['http://user@host/', 'credentials'],
      ['http://:@host/', 'credentials'],
      ['http://', 'not a valid'],
      [`http://example.com/${'a'.repeat(9000)}`, 'characters'],
    ];
    for (const [raw, text] of cases) {
      assert.throws(() => parseVideoUrl(raw), hasCode(ErrorCode.BadRequest, [text]), String(raw));
    }
  });
});

describe('checkUrlAllowedStatic', () => {
  const forbidden = [
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.0.0.1./',
    'http://0/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[64:ff9b::10.0.0.1]/',
    'http://localhost/',
    'http://localhost./',
    'http://LOCALHOST/',
    'http://api.localhost/',
    'http://api.localhost../',
    'http://%6cocalhost/',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00:ec2::254]/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    'https://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
  ];
  for (const raw of forbidden) {
    it(`refuses ${raw} with 014001102`, () => {
      assert.throws(
        () => checkUrlAllowedStatic(parseVideoUrl(raw), { allowPrivate: false }),
        hasCode(ErrorCode.UrlNotAllowed, ['URL not allowed', 'private/loopback/link-local/metadata']),
      );
    });
  }

  it('lets public literals and host names through (names are checked after DNS)', () => {
    for (const raw of ['http://8.8.8.8/', 'https://[2606:4700::1]/v.mp4', 'https://cdn.example.com/v.mp4', 'http://localhost.example.com/']) {
      checkUrlAllowedStatic(parseVideoUrl(raw), { allowPrivate: false });
    }
  });

  it('allows only ports 80 and 443 unless configured', () => {
    assert.throws(
      () => checkUrlAllowedStatic(parseVideoUrl('http://example.com:8080/'), { allowPrivate: false }),
      hasCode(ErrorCode.UrlNotAllowed, ['port 8080']),
    );
    assert.throws(
      () => checkUrlAllowedStatic(parseVideoUrl('https://example.com:22/'), { allowPrivate: false }),
      hasCode(ErrorCode.UrlNotAllowed, ['port 22']),
    );
    checkUrlAllowedStatic(parseVideoUrl('http://example.com:80/'), { allowPrivate: false });
    checkUrlAllowedStatic(parseVideoUrl('http://example.com:8080/'), { allowPrivate: false, allowedPorts: [8080] });
  });

  it('allowPrivate lets everything through', () => {
    for (const raw of ['http://127.0.0.1:9999/', 'http://localhost/', 'http://[::1]/', 'http://169.254.169.254/']) {
      checkUrlAllowedStatic(parseVideoUrl(raw), { allowPrivate: true });
    }
  });

  it('allowAddress exempts one address but not localhost names', () => {
    const opts = { allowPrivate: false, allowAddress: (ip: string) => ip === '127.0.0.1' };
    checkUrlAllowedStatic(parseVideoUrl('http://127.0.0.1/'), opts);
    assert.throws(() => checkUrlAllowedStatic(parseVideoUrl('http://127.0.0.2/'), opts), hasCode(ErrorCode.UrlNotAllowed));
    assert.throws(() => checkUrlAllowedStatic(parseVideoUrl('http://localhost/'), opts), hasCode(ErrorCode.UrlNotAllowed));
  });
});
