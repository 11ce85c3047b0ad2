import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BestView } from '../../src/analysis/types.ts';
import { EarlyPictures } from '../../src/pipeline/early-pictures.ts';
import { face } from './analysis-fixtures.ts';

const view = (timeMs: number, x: number): BestView => ({ timeMs, sighting: face(x) });

test('early pictures: cut one at a time, taken by the exact view, the rest removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kirin-early-'));
  try {
    const log: string[] = [];
    let running = 0;
    const early = new EarlyPictures(async (v, file) => {
      running++;
      try {
        assert.equal(running, 1, 'one cut at a time');
        await new Promise((r) => setTimeout(r, 5));
        if (v.timeMs === 300) throw new Error('ffmpeg failed');
        writeFileSync(file, `picture at ${v.timeMs}`);
        log.push(`${v.timeMs}`);
      } finally {
        running--;
      }
    }, (n) => join(dir, `early${n}.jpg`));
    early.offer([view(100, 10), view(200, 20)]);
    early.offer([view(100, 10), view(300, 30)]);
    assert.equal(await early.take(view(100, 11)), undefined, 'another box is another view');
    const first = await early.take(view(100, 10));
    assert.ok(first && existsSync(first));
    assert.equal(await early.take(view(300, 30)), undefined, 'a failed cut is cut again later');
    await early.settle();
    assert.deepEqual(log, ['100', '200'], 'each view cut once');
    assert.ok(existsSync(first!), 'a taken picture stays');
    assert.ok(!existsSync(join(dir, 'early1.jpg')), 'a picture nobody took is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
