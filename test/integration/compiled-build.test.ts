import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { distDir, root } from '../../bin/build-state.js';
import { ensureBuilt, noTsx } from '../helpers/build.ts';
import { makeFaceVideo } from '../helpers/service.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';

const bin = join(root, 'bin', 'kirin.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node [nodeArgs] bin/kirin.js args` with KIRIN_RUN set. */
function kirin(run: 'dist' | 'source', nodeArgs: string[], ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [...nodeArgs, bin, ...args], { env: { ...process.env, KIRIN_RUN: run }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The compiled build (npm run build → dist/): the service runs as JavaScript, without tsx. */
describe('compiled build', () => {
  let tmp: TempDir;

  before(async () => {
    await ensureBuilt();
    tmp = await makeTempDir('kirin-build-');
  });
  after(() => tmp.cleanup());

  it('dist/ holds JavaScript only, and nothing in it imports tsx or a .ts file', () => {
    const files = readdirSync(distDir, { recursive: true }).map(String);
    assert.ok(files.includes(join('cli', 'main.js')) && files.includes(join('tasks', 'analysis-thread.js')), 'the CLI and the analysis thread body are built');
    assert.ok(files.includes(join('media', 'pipe-reader-thread.mjs')), 'plain-JS thread bodies are copied');
    assert.ok(!files.some((f) => /\.[cm]?ts$/.test(f) && !f.endsWith('.d.ts')), 'no TypeScript in dist/');
    for (const f of files.filter((f) => /\.m?js$/.test(f))) {
      const code = readFileSync(join(distDir, f), 'utf8');
      assert.doesNotMatch(code, /from\s+["']tsx|import\(["']tsx/, `${f} imports tsx`);
      assert.doesNotMatch(code, /(from\s+|import\()["']\.{1,2}\/[^"']*\.ts["']/, `${f} imports a .ts file`);
    }
  });

  it('the no-tsx guard catches a run from the sources (so the checks below can fail)', async () => {
    const r = await kirin('source', ['--import', noTsx], '--help');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /needs tsx/, 'bin/kirin.js could not load tsx under the guard');
  });

  it('kirin --help runs compiled, without tsx', async () => {
    const r = await kirin('dist', ['--import', noTsx], '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kirin identify FILE/);
  });

  it('kirin identify analyses a video compiled, without tsx', async () => {
    const video = await makeFaceVideo(tmp, 'face');
    const r = await kirin('dist', ['--import', noTsx], 'identify', video, '--out', tmp.file('out'));
    assert.equal(r.code, 0, r.stderr || r.stdout);
    const result = JSON.parse(r.stdout);
    assert.equal(result.data.face_data.length, 1, r.stdout);
    assert.ok(Math.abs(result.data.face_data[0].start_time - 500) <= 100, r.stdout);
  });
});
