import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentStretches } from '../../src/vision/voice-activity.ts';

const marks = (pattern: string) => silentStretches(pattern.length, (i) => pattern[i] === '.');

test('only runs of at least 31 silent hops are skipped by the voice model', () => {
  const long = '.'.repeat(31), short = '.'.repeat(30);
  assert.deepEqual([...marks(`x${long}x`)], [0, ...Array(31).fill(1), 0]);
  assert.deepEqual([...marks(`x${short}x`)], Array(32).fill(0));
  assert.deepEqual([...marks(`${long}`)], Array(31).fill(1));
  assert.deepEqual([...marks(`${short}x${long}`)], [...Array(31).fill(0), ...Array(31).fill(1)]);
  assert.deepEqual([...marks('')], []);
});
