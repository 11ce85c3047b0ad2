import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentStretches } from '../../src/vision/voice-activity.ts';

const marks = (pattern: string) => silentStretches(pattern.length, (i) => pattern[i] === '.');

test('runs of at least 62 silent hops (2 s) are skipped by the voice model, but for the 31 before sound', () => {
  const long = '.'.repeat(62), short = '.'.repeat(61);
  assert.deepEqual([...marks(`x${long}x`)], [0, ...Array(31).fill(1), ...Array(31).fill(0), 0]);
  assert.deepEqual([...marks(`x${short}x`)], Array(63).fill(0));
  assert.deepEqual([...marks(`${long}`)], Array(62).fill(1), 'silence to the end is skipped whole');
  assert.deepEqual([...marks(`${short}x${long}`)], [...Array(62).fill(0), ...Array(62).fill(1)]);
  assert.deepEqual([...marks('')], []);
});
