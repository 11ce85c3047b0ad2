import assert from 'node:assert/strict';
import { KirinError } from '../../src/errors.ts';

/** For assert.rejects/throws: a KirinError with this code whose message names every string given (and carries no stack). */
export function hasCode(code: string, messageIncludes: string[] = []) {
  return (e: unknown) => {
    assert.ok(e instanceof KirinError, `expected KirinError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const s of messageIncludes) assert.ok(e.message.includes(s), `message "${e.message}" lacks "${s}"`);
    assert.ok(!e.message.includes('\n    at '), 'message carries a stack');
    return true;
  };
}
