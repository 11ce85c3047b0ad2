import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { kirinBin, startCli, type CliServer } from '../helpers/cli-server.ts';
import { makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { KEY_PATTERN, MODEL, embeddedEnv, makeApi, makeFaceVideo, serveFiles, settled, startReceiver, waitFor } from '../helpers/service.ts';

function kirin(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [kirinBin, ...args], { env }, (e, stdout, stderr) => {
      done({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The real CLI server, killed with SIGKILL mid-work and started again on the same data folder. */
describe('service: restart recovery (kirin start as a child process)', () => {
  let tmp: TempDir;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let env: NodeJS.ProcessEnv;
  const servers: CliServer[] = [];

  before(async () => {
    tmp = await makeTempDir('kirin-restart-');
    files = await serveFiles(tmp.dir);
    receiver = await startReceiver();
    await makeFaceVideo(tmp, 'face');
    env = {
      ...embeddedEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      KIRIN_DATA_DIR: tmp.file('data'),
      KIRIN_WORKERS: '1',
      KIRIN_ALLOW_PRIVATE_URLS: '1',
      LOG_LEVEL: 'warn',
    };
    delete env.KIRIN_PUBLIC_URL;
  });
  after(async () => {
    for (const s of servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        s.proc.kill('SIGKILL');
        await s.exited;
      }
    }
    await receiver?.close();
    await files?.close();
    await tmp?.cleanup();
  });

  it('tasks caught by a SIGKILL are redone after a restart and each completes exactly once; keys made by the CLI meanwhile work', async () => {
    // first start: a key is printed once
    const first = await startCli(env);
    servers.push(first);
    const key = KEY_PATTERN.exec(first.stdout())?.[0];
    assert.ok(key, `the first start prints a key: ${first.stdout()}`);
    let api = makeApi(first.url, key);

    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const r = await api('POST', '/model/v1/generation', { body: { model: MODEL, video_url: `${files.url}/face.mp4`, external_task_id: `restart-${n}`, callback_url: `${receiver.url}/hook/${n}` } });
      assert.equal(r.status, 200, r.text);
      ids.push(r.json.id);
    }
    await waitFor(async () => {
      const l = await api('GET', '/model/v1/generation');
      return l.json.data.some((x: any) => x.status === 'processing');
    }, 60_000, 'a task to be processing', 50);

    first.proc.kill('SIGKILL');
    await first.exited;
    const db0 = new Database(join(env.KIRIN_DATA_DIR!, 'kirin.db'), { readonly: true, fileMustExist: true });
    const atKill = db0.prepare('SELECT id, status FROM tasks').all() as Array<{ id: string; status: string }>;
    db0.close();
    assert.ok(atKill.some((x) => x.status === 'processing'), `a task was left processing: ${JSON.stringify(atKill)}`);
    assert.ok(atKill.some((x) => x.status === 'pending'), `tasks were still waiting: ${JSON.stringify(atKill)}`);

    // second start on the same data: no new key; the old one still works
    const second = await startCli(env);
    servers.push(second);
    assert.doesNotMatch(second.stdout(), KEY_PATTERN, 'no key is printed when keys exist');
    api = makeApi(second.url, key);

    // `keys create` against the same data folder while the server runs
    const made = await kirin(env, 'keys', 'create', '--name', 'x');
    assert.equal(made.code, 0, made.stderr);
    const lines = made.stdout.trimEnd().split('\n');
    const last = lines[lines.length - 1];
    assert.match(last, new RegExp(`^${KEY_PATTERN.source}$`), `the key alone on the last line: ${JSON.stringify(made.stdout)}`);
    const asX = await api('GET', '/model/v1/generation', { key: last });
    assert.equal(asX.status, 200, asX.text);
    assert.deepEqual(asX.json, { data: [], has_more: false }, 'a new owner sees none of the tasks');

    const done = [];
    for (const id of ids) done.push(await settled(api, id, 90_000));
    for (const task of done) {
      assert.equal(task.status, 'completed', `${task.id}: ${JSON.stringify(task.error)}`);
      assert.deepEqual(task.usage, { cost: '0.0100', discount: 0 });
      assert.ok(Number.isInteger(task.completed_at) && task.completed_at >= task.created_at);
      const result = JSON.parse(task.output[0].content[0].text);
      assert.deepEqual(result.data.face_data.map((f: any) => [f.face_id, f.start_time, f.end_time]), [['0', 500, 3000]]);
      const byExt = await api('GET', `/model/v1/generation?external_task_id=${task.external_task_id}`);
      assert.deepEqual(byExt.json, { data: [task], has_more: false });
    }
    const all = await api('GET', '/model/v1/generation');
    assert.equal(all.json.data.length, 4, 'no task was duplicated');
    // callbacks survive the crash too: every task's completion reaches its receiver
    for (const [i, id] of ids.entries()) {
      const got = await waitFor(() => receiver.on(`/hook/${i + 1}`).length > 0 && receiver.on(`/hook/${i + 1}`), 15_000, `callback of task ${i + 1}`);
      const bodies = got.map((g) => JSON.parse(g.body));
      assert.ok(bodies.every((b) => b.id === id && b.status === 'completed'), JSON.stringify(bodies.map((b) => [b.id, b.status])));
    }

    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, 'SIGTERM stops it cleanly');

    // exactly once: one session and one face picture per task
    const db = new Database(join(env.KIRIN_DATA_DIR!, 'kirin.db'), { readonly: true, fileMustExist: true });
    try {
      const sessions = db.prepare('SELECT task_id, COUNT(*) AS n FROM sessions GROUP BY task_id').all() as Array<{ task_id: string; n: number }>;
      assert.deepEqual(sessions.map((s) => s.task_id).sort(), [...ids].sort());
      assert.ok(sessions.every((s) => s.n === 1), JSON.stringify(sessions));
      const pictures = db.prepare('SELECT COUNT(*) AS n FROM files').get() as { n: number };
      assert.equal(pictures.n, 4);
    } finally {
      db.close();
    }
  });
});
