import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cachedConversion } from '../../src/vision/onnx/conversion-cache.ts';

describe('converted-model cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kirin-cache-'));
  const saved = process.env.KIRIN_MODEL_CACHE;
  after(() => {
    process.env.KIRIN_MODEL_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const conversion = (tag: number) => ({ bytes: Uint8Array.from([tag, 1, 2, 3]), inputName: 'in', outputNames: ['a', 'b'] });

  it('converts once per input; later calls read the stored model', () => {
    process.env.KIRIN_MODEL_CACHE = join(dir, 'ok');
    let calls = 0;
    const first = cachedConversion(['m', Uint8Array.from([9])], () => (calls++, conversion(7)));
    const again = cachedConversion(['m', Uint8Array.from([9])], () => (calls++, conversion(8)));
    assert.equal(calls, 1);
    assert.deepEqual(again, first);
    const other = cachedConversion(['m', Uint8Array.from([10])], () => (calls++, conversion(9)));
    assert.equal(calls, 2, 'other weights are converted anew');
    assert.equal(other.bytes[0], 9);
    assert.equal(readdirSync(join(dir, 'ok')).length, 4, 'a model and its names per conversion, no temporary files');
  });

  it('a cache folder that cannot be written only costs the conversion', () => {
    writeFileSync(join(dir, 'file'), 'not a folder');
    process.env.KIRIN_MODEL_CACHE = join(dir, 'file', 'sub');
    let calls = 0;
    cachedConversion(['m'], () => (calls++, conversion(1)));
    const r = cachedConversion(['m'], () => (calls++, conversion(1)));
    assert.equal(calls, 2);
    assert.deepEqual([...r.bytes], [1, 1, 2, 3]);
  });
});
