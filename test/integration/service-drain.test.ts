import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startCli, type CliServer } from '../helpers/cli-server.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { KEY_PATTERN, MODEL, embeddedEnv, makeApi, makeFaceVideo, serveFiles, settled, waitFor } from '../helpers/service.ts';

/**
 * SIGTERM (README, Operations): `kirin start` stops taking work, lets the running analysis finish
 * within KIRIN_SHUTDOWN_GRACE_MS or puts it back to pending for the next start, logs one JSON line
 * saying which, and exits 0.
 */
describe('service: SIGTERM drains running analyses (kirin start as a child process)', () => {
  let tmp: TempDir;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  const servers: CliServer[] = [];

  before(async () => {
    tmp = await makeTempDir('kirin-drain-');
    files = await serveFiles(tmp.dir);
    await makeFaceVideo(tmp, 'face');
  });
  after(async () => {
    for (const s of servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        s.proc.kill('SIGKILL');
        await s.exited;
      }
    }
    await files?.close();
    await tmp?.cleanup();
  });

  const envFor = (dataDir: string, graceMs: number): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {
      ...embeddedEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      KIRIN_DATA_DIR: tmp.file(dataDir),
      KIRIN_WORKERS: '1',
      KIRIN_ALLOW_PRIVATE_URLS: '1',
      KIRIN_SHUTDOWN_GRACE_MS: String(graceMs),
      LOG_LEVEL: 'info',
    };
    delete env.KIRIN_PUBLIC_URL;
    return env;
  };

  /** Starts the CLI, creates one task and waits until it is being analysed. */
  async function startWithRunningTask(env: NodeJS.ProcessEnv) {
    const server = await startCli(env);
    servers.push(server);
    const key = KEY_PATTERN.exec(server.stdout())?.[0];
    assert.ok(key, 'the first start prints a key');
    const api = makeApi(server.url, key);
    const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `${files.url}/face.mp4` } });
    assert.equal(r.status, 200, r.text);
    await waitFor(async () => (await api('GET', `/model/v1/generation/${r.json.id}`)).json.status === 'processing', 30_000, 'the task to be processing', 50);
    return { server, key, api, taskId: r.json.id as string };
  }

  /** SIGTERM; resolves with the exit code, the time to exit and the shutdown log line. */
  async function terminate(server: CliServer) {
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const code = await server.exited;
    const ms = Date.now() - t0;
    const lines = server.stdout().split('\n').filter((l) => l.includes('"event":"shutdown"'));
    assert.equal(lines.length, 1, `one shutdown line in: ${server.stdout().slice(-2000)}`);
    return { code, ms, line: JSON.parse(lines[0]!) };
  }

  const statusInDb = (dataDir: string, id: string) => {
    const db = new Database(join(tmp.file(dataDir), 'kirin.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT status FROM tasks WHERE id = ?').get(id) as { status: string }).status;
    } finally {
      db.close();
    }
  };

  it('grace long enough: the running analysis finishes before the process exits (finished 1, put back 0)', async () => {
    const { server, taskId } = await startWithRunningTask(envFor('long', 120_000));
    const { code, ms, line } = await terminate(server);
    assert.equal(code, 0);
    assert.equal(line.finished, 1, JSON.stringify(line));
    assert.equal(line.put_back, 0, JSON.stringify(line));
    assert.equal(line.grace_ms, 120_000);
    assert.match(line.msg, /finished 1, put back 0/);
    assert.equal(statusInDb('long', taskId), 'completed');
    assert.ok(ms < 120_000, `exited when the work was done (${ms} ms)`);
    process.stdout.write(`# drain, long grace: exit ${ms} ms after SIGTERM, line ${JSON.stringify(line)}\n`);
  });

  it('grace short: the running analysis is put back (finished 0, put back 1) and completes after the next start', async () => {
    const env = envFor('short', 200);
    const { server, key, taskId } = await startWithRunningTask(env);
    const { code, ms, line } = await terminate(server);
    assert.equal(code, 0);
    assert.equal(line.finished, 0, JSON.stringify(line));
    assert.equal(line.put_back, 1, JSON.stringify(line));
    assert.equal(statusInDb('short', taskId), 'pending', 'put back for the next start');
    process.stdout.write(`# drain, short grace: exit ${ms} ms after SIGTERM, line ${JSON.stringify(line)}\n`);

    const again = await startCli(env);
    servers.push(again);
    const task = await settled(makeApi(again.url, key), taskId, 90_000);
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const second = await terminate(again);
    assert.equal(second.code, 0);
    // (the completed task's run may still be removing its scratch files when the signal comes)
    assert.equal(second.line.put_back, 0, 'nothing was put back at the second stop');
  });
});
