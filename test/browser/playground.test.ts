import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.ts';
import { startService, type RunningService } from '../../src/service/kirin-service.ts';
import { createApiKey } from '../../src/storage/api-keys.ts';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';
import { embeddedEnv } from '../helpers/service.ts';
import { addTalkingMouth, mouthInSegments } from '../helpers/talking-face.ts';

/**
 * The playground page at / driven in Debian's chromium (playwright-core, no downloaded browser):
 * upload, progress, face cards and lanes, seeking, the overlay boxes, speaking bands and the
 * voice row, and an error code.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

/** A free TCP port, so the face-picture URLs (KIRIN_PUBLIC_URL) point at the running service. */
const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

interface Span {
  start_time: number;
  end_time: number;
}
interface ResultShown {
  data: {
    face_data: { face_id: string; start_time: number; end_time: number; speaking: Span[] }[];
    rejected_faces: { reason: string; speaking: Span[] }[];
    audio: { present: boolean; speech: Span[] };
    video: { duration_ms: number };
  };
}

const pct = (ms: number, durationMs: number) => (ms / durationMs) * 100;

type Corners = [number, number, number, number];
interface FrameTracksShown {
  video: { frame_count: number };
  frames_ms: number[];
  faces: { face_id: string; person_id: string; boxes: (Corners | null)[]; keypoints: unknown[] }[];
  rejected_faces: { boxes: (Corners | null)[] }[];
}

/** What the overlay drew last: the frame index and the boxes (source pixels). */
const overlayState = (page: Page) =>
  page.$eval('#overlay', (c) => ({ source: (c as HTMLElement).dataset.source, frame: Number((c as HTMLElement).dataset.frame), drawn: JSON.parse((c as HTMLElement).dataset.drawn ?? '[]') as Corners[] }));

/** Clicks the download button and returns the downloaded file, parsed. */
async function downloadTracks(page: Page): Promise<{ name: string; doc: FrameTracksShown }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-tracks')]);
  const file = await download.path();
  return { name: download.suggestedFilename(), doc: JSON.parse(await readFile(file, 'utf8')) as FrameTracksShown };
}

/** Bands on the page (per lane, in lane order) and the voice row match the result's speaking spans and audio. */
async function assertSpeakingDrawn(page: Page, result: ResultShown): Promise<void> {
  const d = result.data;
  const durationMs = d.video.duration_ms;
  const expected = [...d.face_data, ...d.rejected_faces].map((f) => f.speaking);
  const drawn = await page.$$eval('.lane', (lanes) =>
    lanes.map((l) => [...l.querySelectorAll<HTMLElement>('.seg.speaking')].map((s) => ({ left: parseFloat(s.style.left), width: parseFloat(s.style.width), title: s.title }))),
  );
  assert.equal(drawn.length, expected.length, 'one lane per face and rejected face');
  drawn.forEach((bands, i) => {
    assert.equal(bands.length, expected[i].length, `lane ${i}: ${JSON.stringify(bands)} vs ${JSON.stringify(expected[i])}`);
    bands.forEach((b, k) => {
      const sp = expected[i][k];
      assert.ok(Math.abs(b.left - pct(sp.start_time, durationMs)) < 0.01, `lane ${i} band ${k} starts at ${b.left}%`);
      assert.ok(Math.abs(b.width - pct(sp.end_time - sp.start_time, durationMs)) < 0.01, `lane ${i} band ${k} is ${b.width}% wide`);
      assert.match(b.title, /^speaking \d+\.\d\d s–\d+\.\d\d s$/);
    });
  });
  assert.equal(await page.locator('#soundtrack').isVisible(), true, 'the voice row');
  if (d.audio.present) {
    assert.equal(await page.locator('#soundtrack .seg.voice').count(), d.audio.speech.length, 'one voice bar per speech span');
  } else {
    assert.match((await page.textContent('#soundtrack')) ?? '', /no audio stream/);
  }
  assert.match((await page.textContent('.legend')) ?? '', /speaking/);
}

describe('playground page', () => {
  let tmp: TempDir;
  let service: RunningService;
  let browser: Browser;
  let page: Page;
  let key: string;
  let video: string;
  let badFile: string;
  const problems: string[] = [];
  /** Console lines the browser prints for an HTTP error answer the page expects (and shows). */
  let expectedHttpErrors: RegExp | undefined;

  before(async () => {
    tmp = await makeTempDir('kirin-browser-');
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((p) => portrait(p as 'a' | 'b' | 'c', tmp.file(`${p}.png`))));
    // a blank first second, two people side by side (both usable 1.0–4.0 s), a gap, then a third
    // person for only 1.5 s (rejected: too_short); 7 s in all. The left one speaks from 1.2 s
    // (espeak-ng, her mouth opening with the sound); the right one listens.
    const { out: silent } = await makeSegmentsVideo({
      out: tmp.file('two-faces-silent.mp4'),
      segments: [{ seconds: 1, blank: true }, { seconds: 3, images: [b, c], fit: 0.8 }, { seconds: 1.5, blank: true }, { seconds: 1.5, image: a, fit: 0.8 }],
    });
    ({ out: video } = await addTalkingMouth({
      video: silent,
      out: tmp.file('two-faces.mp4'),
      mouth: mouthInSegments('b', { slot: 'left', fit: 0.8 }),
      text: 'Hello, this face is speaking now.',
      fromMs: 1200,
    }));
    badFile = tmp.file('bad.mp4');
    await writeFile(badFile, 'this is not a video, whatever its name says\n'.repeat(20));

    const port = await freePort();
    service = await startService(
      loadConfig({
        ...embeddedEnv(),
        PORT: String(port),
        HOST: '127.0.0.1',
        KIRIN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        KIRIN_DATA_DIR: tmp.file('data'),
        KIRIN_WORKERS: '1',
      }),
    );
    key = (await createApiKey(service.repositories.apiKeys, 'web', 'web')).key;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (expectedHttpErrors?.test(m.text())) return;
      problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // the page talks to its own service only
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['blob:', 'data:'].includes(u.protocol) && u.origin !== service.url) problems.push(`request to another host: ${r.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await service?.close();
    await tmp?.cleanup();
  });

  it('serves the page and its files without a key, hidden from OpenAPI', async () => {
    const home = await fetch(`${service.url}/`);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await home.text(), /<script type="module" src="\/web\/app.js">/);
    for (const [path, type] of [['/web/app.js', /javascript/], ['/web/style.css', /text\/css/]] as const) {
      const r = await fetch(`${service.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', type, path);
    }
    assert.equal((await fetch(`${service.url}/web/nope.js`)).status, 404);
    const spec = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(spec.paths).some((p) => p === '/' || p.startsWith('/web')), Object.keys(spec.paths).join(' '));
  });

  it('uploads a video, shows two faces with lanes, seeks, and draws boxes', async () => {
    await page.goto(`${service.url}/`);
    await page.fill('#api-key', key);
    assert.equal(await page.evaluate(() => localStorage.getItem('kirin.playground.apiKey')), key, 'the key is kept in localStorage');
    await page.setInputFiles('#file', video);
    await page.click('#submit');

    await page.waitForSelector('#result:not([hidden])', { timeout: 180_000 });
    assert.match((await page.textContent('#progress-text')) ?? '', /completed/);
    assert.equal(await page.$eval('#progress', (p) => (p as HTMLProgressElement).value), 1);
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('.face-card img')];
      return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    }, undefined, { timeout: 30_000 });
    assert.equal(await page.locator('.lane-row:not(.rejected) .lane').count(), 2, 'one lane per face');
    assert.equal(await page.locator('.lane-row.rejected .lane').count(), 1, 'a dimmed lane for the rejected face');
    assert.match((await page.textContent('.lane-row.rejected')) ?? '', /too short/);
    assert.deepEqual(await page.locator('.face-id').allTextContents(), ['face_id 0', 'face_id 1']);

    const result = JSON.parse((await page.textContent('#raw')) ?? '{}') as ResultShown;
    const faces = result.data.face_data;
    assert.equal(faces.length, 2);
    for (const f of faces) {
      assert.ok(Math.abs(f.start_time - 1000) <= 34 && Math.abs(f.end_time - 4000) <= 34, JSON.stringify(f));
    }

    // who speaks: the left face (face 0) while her voice is heard, the listener never
    assert.equal(result.data.audio.present, true, 'the video has a soundtrack');
    assert.ok(result.data.audio.speech.length > 0, `voice heard: ${JSON.stringify(result.data.audio)}`);
    assert.ok(faces[0].speaking.length > 0, `face 0 speaks: ${JSON.stringify(faces[0])}`);
    assert.deepEqual(faces[1].speaking, [], 'the listener does not speak');
    assert.deepEqual(result.data.rejected_faces[0].speaking, [], 'the face after the speech does not speak');
    // the page draws exactly the data: one band per speaking span, and the voice row
    await assertSpeakingDrawn(page, result);
    assert.ok((await page.locator('.lane').nth(0).locator('.seg.speaking').count()) > 0, 'a speaking band on face 0\'s lane');

    // the uploaded file itself plays: metadata loads (Debian's chromium decodes H.264)
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('#player')!;
      return v.readyState >= 1 && Math.abs(v.duration - 7) < 0.2;
    }, undefined, { timeout: 30_000 });
    const currentTime = () => page.$eval('#player', (v) => (v as HTMLVideoElement).currentTime);

    // a click inside the second lane at 50% seeks to the middle of the video
    const lane = page.locator('.lane').nth(1);
    const box = (await lane.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    assert.ok(Math.abs((await currentTime()) - 3.5) < 0.1, `lane click → ${await currentTime()} s`);

    // the second face's card seeks to that face's start
    await page.locator('.face-card').nth(1).click();
    assert.ok(Math.abs((await currentTime()) - faces[1].start_time / 1000) < 0.05, `card click → ${await currentTime()} s`);

    // keyboard: focus the first lane, Enter → its start; → steps half a second
    await page.locator('.lane').nth(0).focus();
    await page.keyboard.press('ArrowRight');
    assert.ok(Math.abs((await currentTime()) - (faces[1].start_time / 1000 + 0.5)) < 0.05, `ArrowRight → ${await currentTime()} s`);
    await page.keyboard.press('Enter');
    assert.ok(Math.abs((await currentTime()) - faces[0].start_time / 1000) < 0.05, `Enter → ${await currentTime()} s`);

    // both faces boxed while on screen, none before they appear
    await page.locator('.lane').nth(0).click({ position: { x: (box.width * 2.5) / 7, y: 5 } });
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#overlay')!.dataset.boxes === '2', undefined, { timeout: 10_000 });
    await page.locator('.lane').nth(0).click({ position: { x: (box.width * 0.4) / 7, y: 5 } });
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#overlay')!.dataset.boxes === '0', undefined, { timeout: 10_000 });

    // back to a moment with both faces for the picture
    await page.locator('.lane').nth(1).click({ position: { x: (box.width * 2.5) / 7, y: 5 } });
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('#player')!;
      return !v.seeking && v.readyState >= 3 && document.querySelector<HTMLCanvasElement>('#overlay')!.dataset.boxes === '2';
    }, undefined, { timeout: 10_000 });

    // the per-frame tracks: downloaded as a file, every frame of the 7 s video; the boxes drawn are this frame's
    assert.equal(await page.isEnabled('#download-tracks'), true);
    assert.match((await page.textContent('#tracks-status')) ?? '', /210 frames/);
    const { name, doc } = await downloadTracks(page);
    const taskId = /Task (task_\w+)/.exec((await page.textContent('#progress-text')) ?? '')?.[1];
    assert.equal(name, `tracks_${taskId}.json`);
    assert.equal(doc.video.frame_count, 210);
    assert.equal(doc.frames_ms.length, 210);
    assert.deepEqual(doc.faces.map((f) => f.face_id), ['0', '1']);
    assert.equal(doc.rejected_faces.length, 1);
    const shown = await overlayState(page);
    assert.equal(shown.source, 'frames');
    const t = await currentTime();
    assert.equal(shown.frame, doc.frames_ms.filter((ms) => ms <= t * 1000).length - 1, `frame at ${t} s`);
    assert.deepEqual(shown.drawn, doc.faces.map((f) => f.boxes[shown.frame]), 'the boxes drawn are the per-frame tracks of the frame shown');
    await page.mouse.move(0, 0);
    await page.waitForTimeout(600); // let the player's controls settle for the picture
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('playground.png', ARTIFACTS).pathname, fullPage: true });
    // a phone-sized screen: nothing wider than the viewport
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling at 390 px');
    await page.screenshot({ path: new URL('playground-narrow.png', ARTIFACTS).pathname, fullPage: true });
    await page.setViewportSize({ width: 1100, height: 1400 });
    assert.deepEqual(problems, []);
  });

  it('draws the speaking bands and the voice row from the data (a canned task and its tracks)', async () => {
    const span = (start_time: number, end_time: number) => ({ start_time, end_time });
    const picture = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#888"/></svg>')}`;
    const videoMeta = { duration_ms: 7000, width: 1280, height: 720, fps: 30, format: 'mp4' };
    const box = (x: number) => ({ x, y: 220, width: 170, height: 190 });
    const track = (x: number, start: number, end: number) => ({ spans: [{ start_time: start, end_time: end, state: 'usable' }], samples: [{ t: start, box: box(x) }, { t: end - 34, box: box(x) }] });
    const faces = [
      { face_id: '0', start_time: 1000, end_time: 4000, box: box(230), score: 1, speaking: [span(1200, 2400), span(2800, 3600)] },
      { face_id: '1', start_time: 1000, end_time: 4000, box: box(880), score: 1, speaking: [] },
    ];
    const rejected = [{ reason: 'too_short', start_time: 5500, end_time: 7000, speaking: [span(5600, 6500)] }];
    // a narrator between 4.3 and 4.9 s: voice heard, no face speaking
    const audio = { present: true, speech: [span(1200, 2400), span(2800, 3600), span(4300, 4900), span(5600, 6500)] };
    const result = {
      code: 0,
      message: 'SUCCEED',
      request_id: 'req_canned',
      data: { session_id: 'sess_canned', final_unit_deduction: '1', face_data: faces.map((f) => ({ ...f, face_image: picture })), video: videoMeta, rejected_faces: rejected, audio },
    };
    const task = {
      id: 'task_canned', model: 'kirin_identify_face', status: 'completed', progress: 1, created_at: 1, completed_at: 2,
      output: [{ content: [{ type: 'text', text: JSON.stringify(result), url: '' }] }], usage: { cost: '0.0100', discount: 0 }, metadata: { queue_ms: 0, processing_ms: 1000, video: videoMeta },
    };
    const tracks = {
      task_id: task.id, session_id: 'sess_canned', video: videoMeta, audio,
      faces: faces.map((f, i) => ({ face_id: f.face_id, start_time: f.start_time, end_time: f.end_time, speaking: f.speaking, track: track(i ? 880 : 230, 1000, 4000) })),
      rejected_faces: rejected.map((r) => ({ ...r, track: track(560, 5500, 7000) })),
    };
    // per-frame tracks: face 0 moves 2 px a frame to the right, face 1 stays, the rejected face is boxed where seen
    const framesMs = Array.from({ length: 210 }, (_, i) => Math.round((i * 1000) / 30));
    const perFrame = (from: number, to: number, x: (i: number) => number) => framesMs.map((ms, i) => (ms >= from && ms < to ? ([x(i), 220, x(i) + 170, 410] as Corners) : null));
    const frameTracks = {
      task_id: task.id, session_id: 'sess_canned',
      video: { width: 1280, height: 720, fps: 30, frame_count: 210, duration_ms: 7000 },
      frames_ms: framesMs,
      faces: faces.map((f, i) => ({ face_id: f.face_id, person_id: `person_${i}`, start_time: 1000, end_time: 4000, boxes: perFrame(1000, 4000, (k) => (i ? 880 : 200 + 2 * k)), raw_boxes: perFrame(1000, 4000, (k) => (i ? 880 : 200 + 2 * k)), keypoints: [], mouth: [] })),
      rejected_faces: [{ reason: 'too_short', person_id: 'person_2', start_time: 5500, end_time: 7000, boxes: perFrame(5500, 7000, () => 560), raw_boxes: [], keypoints: [], mouth: [] }],
    };
    const json = (body: unknown) => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    const tracksPath = '/model/v1/generation/task_canned/tracks';
    await page.route(`${service.url}/model/v1/generation`, (r) => r.fulfill(json(task)));
    await page.route((u) => u.pathname === tracksPath && !u.searchParams.has('frames'), (r) => r.fulfill(json(tracks)));
    await page.route((u) => u.pathname === tracksPath && u.searchParams.get('frames') === 'all', (r) => r.fulfill(json(frameTracks)));
    // the video with byte ranges, as a web host serves it, so the player can seek
    const bytes = await readFile(video);
    await page.route(`${service.url}/canned.mp4`, (r) => {
      const range = /bytes=(\d+)-(\d*)/.exec(r.request().headers().range ?? '');
      if (!range) return r.fulfill({ status: 200, contentType: 'video/mp4', headers: { 'accept-ranges': 'bytes' }, body: bytes });
      const start = Number(range[1]), end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      return r.fulfill({ status: 206, contentType: 'video/mp4', headers: { 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${bytes.length}` }, body: bytes.subarray(start, end + 1) });
    });
    try {
      await page.goto(`${service.url}/`);
      await page.fill('#video-url', `${service.url}/canned.mp4`);
      await page.click('#submit');
      await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
      await assertSpeakingDrawn(page, result);
      assert.equal(await page.locator('.lane').nth(0).locator('.seg.speaking').count(), 2);
      assert.equal(await page.locator('.lane').nth(1).locator('.seg.speaking').count(), 0);
      assert.equal(await page.locator('.lane-row.rejected .seg.speaking').count(), 1, 'a rejected face speaks too');
      assert.deepEqual(await page.locator('.lane').nth(0).locator('.seg.speaking').evaluateAll((b) => b.map((e) => e.getAttribute('title'))), ['speaking 1.20 s–2.40 s', 'speaking 2.80 s–3.60 s']);
      assert.match((await page.getAttribute('.lane >> nth=0', 'aria-label')) ?? '', /speaking 1\.20–2\.40 s, 2\.80–3\.60 s/);
      assert.match((await page.getAttribute('.lane >> nth=1', 'aria-label')) ?? '', /never speaking/);
      assert.equal(await page.locator('#soundtrack .seg.voice').count(), 4);
      assert.deepEqual(await page.locator('.face-speaks').allTextContents(), ['speaking 2.00 s', 'not speaking']);
      // the band is a visible strip along the lane's bottom edge
      const lane = (await page.locator('.lane').nth(0).boundingBox())!;
      const band = (await page.locator('.lane').nth(0).locator('.seg.speaking').nth(0).boundingBox())!;
      assert.ok(band.height >= 3 && band.height <= 8, `band height ${band.height}`);
      assert.ok(Math.abs(band.y + band.height - (lane.y + lane.height - 1)) <= 1.5, 'at the bottom of the lane');
      assert.ok(Math.abs(band.x - (lane.x + 1 + ((lane.width - 2) * 1200) / 7000)) <= 1.5, `starts at 1.2 s (x ${band.x})`);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.locator('#timeline').screenshot({ path: new URL('playground-speaking.png', ARTIFACTS).pathname });

      // the overlay draws the per-frame boxes of the frame shown (face 0 has moved 2 px a frame), none where they are null
      await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#player')!.readyState >= 1, undefined, { timeout: 30_000 });
      const seek = async (s: number, frame: number) => {
        await page.$eval('#player', (v, at) => ((v as HTMLVideoElement).currentTime = at), s);
        try {
          await page.waitForFunction((f) => document.querySelector<HTMLCanvasElement>('#overlay')!.dataset.frame === String(f), frame, { timeout: 10_000 });
        } catch (e) {
          const at = await page.$eval('#player', (v) => [(v as HTMLVideoElement).currentTime, (v as HTMLVideoElement).readyState]);
          throw new Error(`seek to ${s} s: player at ${at}, overlay ${JSON.stringify(await overlayState(page))}: ${e}`);
        }
        return overlayState(page);
      };
      assert.deepEqual((await seek(2.01, 60)).drawn, [[320, 220, 490, 410], [880, 220, 1050, 410]]);
      assert.deepEqual((await seek(3.51, 105)).drawn, [[410, 220, 580, 410], [880, 220, 1050, 410]]);
      assert.deepEqual((await seek(4.51, 135)).drawn, [], 'nobody between the faces');
      assert.deepEqual((await seek(6.01, 180)).drawn, [[560, 220, 730, 410]], 'the rejected face where it was seen');
      // and the download is the document the service sent
      const { name, doc } = await downloadTracks(page);
      assert.equal(name, 'tracks_task_canned.json');
      assert.deepEqual(doc, frameTracks);
      assert.deepEqual(problems, []);
    } finally {
      await page.unrouteAll();
    }
  });

  it('a text file named bad.mp4 shows its error code and meaning', async () => {
    expectedHttpErrors = /Failed to load resource: the server responded with a status of 400/;
    await page.goto(`${service.url}/`);
    assert.equal(await page.inputValue('#api-key'), key, 'the key came back from localStorage');
    await page.setInputFiles('#file', badFile);
    await page.click('#submit');
    await page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
    const text = (await page.textContent('#error')) ?? '';
    assert.match(text, /014001104/);
    assert.match(text, /not an MP4 or MOV/);
    assert.equal(await page.getAttribute('#error', 'role'), 'alert');
    assert.equal(await page.locator('#result').isHidden(), true);
    assert.deepEqual(problems, []);
  });
});
