import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { root } from '../../bin/build-state.js';
import { ErrorCode, KirinClient, KirinError, KirinTaskFailedError, KirinTimeoutError, parseCallback, verifyCallbackSignature, type FaceData, type ResultJson } from '../../client/src/index.ts';
import { ensureBuilt, noTsx } from '../helpers/build.ts';
import { startCli, type CliServer } from '../helpers/cli-server.ts';
import { makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { KEY_PATTERN, embeddedEnv, makeFaceVideo, onService, serveFiles, startReceiver, waitFor } from '../helpers/service.ts';

const SECRET = 'cbsec_client_test_secret';

/** The faces of a result without the per-request parts (signed URLs, ids). */
const faces = (r: ResultJson) => r.data.face_data.map(({ face_image: _u, ...f }: FaceData) => f);

/**
 * @kirin-face/client against a real service: `kirin start` from the compiled build (dist/), run
 * under a guard that fails on tsx or any .ts module, so its analysis threads run compiled too.
 */
describe('client (@kirin-face/client) against a real service', () => {
  let tmp: TempDir;
  let server: CliServer;
  let kirin: KirinClient;
  let key: string;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let faceVideo: string;
  let byFile: ResultJson;
  let byFileTaskId: string;

  before(async () => {
    await ensureBuilt();
    tmp = await makeTempDir('kirin-client-');
    files = await serveFiles(tmp.dir);
    receiver = await startReceiver();
    faceVideo = await makeFaceVideo(tmp, 'face');
    const env: NodeJS.ProcessEnv = {
      ...embeddedEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      KIRIN_DATA_DIR: tmp.file('data'),
      KIRIN_WORKERS: '1',
      KIRIN_ALLOW_PRIVATE_URLS: '1',
      KIRIN_CALLBACK_SECRET: SECRET,
      KIRIN_CALLBACK_FIRST_DELAY_MS: '200',
      KIRIN_RUN: 'dist',
      LOG_LEVEL: 'warn',
    };
    delete env.KIRIN_PUBLIC_URL;
    server = await startCli(env, ['--import', noTsx]);
    key = KEY_PATTERN.exec(server.stdout())?.[0] ?? '';
    assert.ok(key, `the first start prints a key: ${server.stdout()}`);
    kirin = new KirinClient({ baseUrl: server.url, apiKey: key });
  });

  after(async () => {
    if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
    await receiver?.close();
    await files?.close();
    await tmp?.cleanup();
  });

  it('identify({ file }): uploads, polls with progress to the end, parses the result; the face picture is served', async () => {
    const progress: number[] = [];
    const statuses = new Set<string>();
    byFile = await kirin.identify({ file: faceVideo }, {
      pollIntervalMs: 200,
      onProgress: (p, task) => {
        progress.push(p);
        statuses.add(task.status);
        byFileTaskId = task.id;
      },
    });
    assert.equal(byFile.code, 0);
    assert.equal(byFile.message, 'SUCCEED');
    assert.equal(byFile.data.face_data.length, 1, JSON.stringify(byFile));
    const face = byFile.data.face_data[0];
    assert.equal(face.face_id, '0');
    assert.ok(Math.abs(face.start_time - 500) <= 100 && Math.abs(face.end_time - 3000) <= 100, JSON.stringify(face));
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
    assert.equal(progress.at(-1), 1);
    assert.ok(statuses.has('completed'));
    const picture = await fetch(onService(face.face_image, server.url));
    assert.equal(picture.status, 200);
    assert.equal(picture.headers.get('content-type'), 'image/jpeg');
  });

  it('createTask by video_url with a callback: the callback verifies with the secret (and not when changed); waitForTask answers the same faces', async () => {
    const created = await kirin.createTask({ video_url: files.fileUrl(faceVideo), callback_url: `${receiver.url}/hook/url`, external_task_id: 'client-url-1' });
    assert.equal(created.status, 'pending');
    const again = await kirin.createTask({ video_url: files.fileUrl(faceVideo), external_task_id: 'client-url-1' });
    assert.equal(again.id, created.id, 'external_task_id is idempotent');
    const done = await kirin.waitForTask(created.id, { pollIntervalMs: 200 });
    assert.equal(done.status, 'completed');
    const listed = await kirin.listTasks({ external_task_id: 'client-url-1' });
    assert.deepEqual(listed.data.map((t) => t.id), [created.id]);

    const [cb] = await waitFor(() => (receiver.on('/hook/url').length ? receiver.on('/hook/url') : undefined), 30_000, 'the callback');
    const header = cb.headers['x-kirin-signature'];
    assert.equal(verifyCallbackSignature({ secret: SECRET, header, body: cb.body }), true);
    assert.equal(verifyCallbackSignature({ secret: 'cbsec_wrong', header, body: cb.body }), false);
    assert.equal(verifyCallbackSignature({ secret: SECRET, header, body: cb.body.replace('"completed"', '"failed"') }), false);
    const delivered = parseCallback({ secret: SECRET, header, body: cb.body });
    assert.equal(delivered.id, created.id);
    assert.equal(delivered.status, 'completed');
  });

  it('identifySync({ video_id }) answers the result JSON itself, with the same faces; the session and the video are readable', async () => {
    const video = await kirin.uploadVideo(await readFile(faceVideo));
    assert.equal(video.format, 'mp4');
    assert.equal((await kirin.getVideo(video.video_id)).video_id, video.video_id);
    const sync = await kirin.identifySync({ video_id: video.video_id });
    assert.deepEqual(faces(sync), faces(byFile));
    const session = await kirin.getSession(sync.data.session_id);
    assert.equal(session.session_id, sync.data.session_id);
    assert.deepEqual(session.face_data.map((f) => [f.face_id, f.start_time, f.end_time]), sync.data.face_data.map((f) => [f.face_id, f.start_time, f.end_time]));
    await kirin.deleteVideo(video.video_id);
    await assert.rejects(kirin.getVideo(video.video_id), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.VideoIdUnknown && e.status === 404);
  });

  it('tracks: per task, per session, and every frame with frames: "all"', async () => {
    const tracks = await kirin.getTracks(byFileTaskId);
    assert.equal(tracks.session_id, byFile.data.session_id);
    assert.equal(tracks.faces.length, 1);
    assert.ok(tracks.faces[0].track.spans.some((s) => s.state === 'usable'));
    const frames = await kirin.getTracks(byFileTaskId, { frames: 'all' });
    assert.ok(frames.frames_ms.length >= 80, `a 3 s video at 30 fps: ${frames.frames_ms.length} frames`);
    assert.equal(frames.faces[0].boxes.length, frames.frames_ms.length);
    assert.equal(frames.faces[0].boxes.filter(Boolean).length >= 70, true);
    const bySession = await kirin.getSessionTracks(byFile.data.session_id, { frames: 'all' });
    assert.deepEqual(bySession.frames_ms, frames.frames_ms);
  });

  it('checkLipSyncPlan: an accepted plan, and a refused one with its coded problem and the nearest valid insert', async () => {
    const session = byFile.data.session_id;
    const ok = await kirin.checkLipSyncPlan(session, { audio_duration_ms: 3000, face_choose: [{ face_id: '0', sound_start_time: 0, sound_end_time: 2400, sound_insert_time: 500 }] });
    assert.equal(ok.data.accepted, true, JSON.stringify(ok));
    // inserted at 1000 ms, the 2.4 s crop runs past the 3 s video's end
    const refused = await kirin.checkLipSyncPlan(session, { audio_duration_ms: 3000, face_choose: [{ face_id: '0', sound_start_time: 0, sound_end_time: 2400, sound_insert_time: 1000 }] });
    assert.equal(refused.data.accepted, false);
    assert.ok(refused.data.checks[0].problems.some((p) => p.code === '014001504' && p.rule === 'insert_outside_video'), JSON.stringify(refused.data.checks[0]));
    assert.equal(typeof refused.data.checks[0].nearest_insert_time, 'number');
    await assert.rejects(kirin.checkLipSyncPlan('sess_unknown', { audio_duration_ms: 3000, face_choose: [{ face_id: '0', sound_start_time: 0, sound_end_time: 2400, sound_insert_time: 0 }] }), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.SessionUnknown && e.status === 404);
  });

  it('errors carry the contract code: a bad upload, a failed task, an unknown key, an unknown session', async () => {
    const { out: short } = await makeSegmentsVideo({ out: tmp.file('short.mp4'), segments: [{ seconds: 1, blank: true }] });
    await assert.rejects(kirin.uploadVideo(short), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.BadDuration && e.status === 400 && e.isInputError);
    await assert.rejects(kirin.identify({ video_url: `${files.url}/missing.mp4` }, { pollIntervalMs: 200 }), (e: unknown) => e instanceof KirinTaskFailedError && e.code === ErrorCode.DownloadFailed && e.task?.status === 'failed');
    const stranger = new KirinClient({ baseUrl: server.url, apiKey: 'kirin_nobody.nothing' });
    await assert.rejects(stranger.getTask('task_x'), (e: unknown) => e instanceof KirinError && e.status === 401 && e.code === ErrorCode.BadRequest);
    await assert.rejects(kirin.getSession('sess_unknown'), (e: unknown) => e instanceof KirinError && e.code === ErrorCode.SessionUnknown);
  });

  it('aborting identify cancels the task on the service (014001301); a wait that times out leaves the task running', async () => {
    // one analysis thread: a first task keeps it busy, so the next waits pending
    const busy = await kirin.createTask({ video_url: files.fileUrl(faceVideo) });
    const stop = new AbortController();
    let cancelledId = '';
    await assert.rejects(
      kirin.identify({ video_url: files.fileUrl(faceVideo) }, {
        signal: stop.signal,
        pollIntervalMs: 100,
        onProgress: (_p, task) => {
          cancelledId = task.id;
          stop.abort(new Error('stopped by the test'));
        },
      }),
      /stopped by the test/,
    );
    const cancelled = await kirin.getTask(cancelledId);
    assert.equal(cancelled.status, 'failed');
    assert.equal(cancelled.error?.code, ErrorCode.Cancelled);

    await assert.rejects(kirin.waitForTask(busy.id, { timeoutMs: 1, pollIntervalMs: 1 }), (e: unknown) => e instanceof KirinTimeoutError && e.code === ErrorCode.SyncGeneration && e.taskId === busy.id);
    assert.equal((await kirin.waitForTask(busy.id, { pollIntervalMs: 200 })).status, 'completed', 'the task went on');
  });

  it('the example (client/examples/identify.mjs, run from the built package) prints the parsed result JSON', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, [join(root, 'client', 'examples', 'identify.mjs'), faceVideo], { env: { ...process.env, KIRIN_URL: server.url, KIRIN_API_KEY: key } }, (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(run.code, 0, run.stderr || run.stdout);
    const printed = JSON.parse(run.stdout) as ResultJson;
    assert.deepEqual(faces(printed), faces(byFile));
    assert.match(run.stderr, /completed 100%/);
    const bad = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(process.execPath, [join(root, 'client', 'examples', 'identify.mjs'), tmp.file('short.mp4')], { env: { ...process.env, KIRIN_URL: server.url, KIRIN_API_KEY: key } }, (err, stdout) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );
    assert.equal(bad.code, 2);
    assert.equal(JSON.parse(bad.stdout).error.code, ErrorCode.BadDuration);
  });
});
