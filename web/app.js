// Kirin Face playground: upload or give a URL, poll the task, show faces, lanes and boxes.
// Plain ES module, no dependencies; talks only to the service that served it.

/** CONTRACT.md §3: code → what it means for the person at the keyboard. */
export const ERROR_MEANINGS = {
  '014001001': 'Bad request (unknown model, both or neither source, a malformed URL, bad JSON, or a missing/unknown API key).',
  '014001002': 'The uploaded video is unknown, expired or belongs to someone else.',
  '014001101': 'The video could not be downloaded (DNS, connection, HTTP error or timeout).',
  '014001102': 'That URL is not allowed (a private, loopback, link-local or metadata address).',
  '014001103': 'The file is larger than 100 MB.',
  '014001104': 'The file is not an MP4 or MOV (judged from its bytes, not its name).',
  '014001105': 'The video must last between 2 and 60 seconds.',
  '014001106': 'The resolution must be 720p or 1080p (the shorter side 720 or 1080 px).',
  '014001107': 'Width and height must be between 512 and 2160 px.',
  '014001108': 'The video is unreadable: no video stream, corrupt or undecodable.',
  '014001201': 'The session is unknown or has expired.',
  '014001301': 'The task was cancelled by its owner.',
  '014001401': 'Too many requests: a rate or concurrency limit was hit; try again shortly.',
  '014002095': 'Internal error while analysing the video.',
  '014002096': 'The result could not be parsed.',
  '014002097': 'A dependency answered with an error.',
  '014002099': 'The synchronous request failed or timed out.',
};

const KEY_STORE = 'kirin.playground.apiKey';
const POLL_MS = 500;
const COLORS = ['#2f80ed', '#eb5757', '#27ae60', '#f2994a', '#9b51e0', '#00a3a3', '#d4a017', '#e0569b'];

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const els = {
  form: /** @type {HTMLFormElement} */ ($('run-form')),
  key: /** @type {HTMLInputElement} */ ($('api-key')),
  file: /** @type {HTMLInputElement} */ ($('file')),
  drop: $('drop'),
  fileName: $('file-name'),
  url: /** @type {HTMLInputElement} */ ($('video-url')),
  submit: /** @type {HTMLButtonElement} */ ($('submit')),
  status: $('status'),
  progress: /** @type {HTMLProgressElement} */ ($('progress')),
  progressText: $('progress-text'),
  error: $('error'),
  result: $('result'),
  player: /** @type {HTMLVideoElement} */ ($('player')),
  overlay: /** @type {HTMLCanvasElement} */ ($('overlay')),
  ruler: $('ruler'),
  lanes: $('lanes'),
  soundtrack: $('soundtrack'),
  faces: $('faces'),
  noFaces: $('no-faces'),
  raw: $('raw'),
  copy: /** @type {HTMLButtonElement} */ ($('copy')),
  copyStatus: $('copy-status'),
  downloadTracks: /** @type {HTMLButtonElement} */ ($('download-tracks')),
  tracksStatus: $('tracks-status'),
};

/** @type {File | null} */
let chosenFile = null;
let objectUrl = '';
/**
 * What is shown: { durationMs, width, height, audio, framesMs, lanes: [{ id, label, color, rejected, start, end, speaking, track, boxes }] }.
 * framesMs and each lane's boxes come from the per-frame tracks (null when the service has none).
 */
let view = null;
/** The per-frame tracks document as the service sent it, and the task it belongs to (for the download). */
let frameTracks = null;
let running = false;

// ---------- API

class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${els.key.value.trim()}` };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError('', `could not reach the service (${e instanceof Error ? e.message : e})`, 0);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = json && json.error;
    throw new ApiError(err?.code ?? '', err?.error_message ?? `HTTP ${res.status} ${res.statusText}`, res.status);
  }
  return json;
}

// ---------- messages

function showError(code, message, status) {
  els.error.replaceChildren();
  const title = document.createElement('strong');
  title.className = 'error-code';
  title.textContent = code ? `Error ${code}` : status ? `Error (HTTP ${status})` : 'Error';
  const meaning = document.createElement('p');
  meaning.className = 'error-meaning';
  meaning.textContent =
    status === 401 ? 'The API key was not accepted: check it, or create one with `npx kirin keys create`.' :
    ERROR_MEANINGS[code] ?? (code ? 'Unknown error code.' : '');
  const detail = document.createElement('p');
  detail.className = 'error-detail';
  detail.textContent = `Service says: ${message}`;
  els.error.append(title, meaning, detail);
  els.error.hidden = false;
}

function clearError() {
  els.error.hidden = true;
  els.error.replaceChildren();
}

function setProgress(fraction, text) {
  els.status.hidden = false;
  els.progress.value = Math.max(0, Math.min(1, fraction));
  els.progressText.textContent = text;
}

// ---------- inputs

els.key.value = localStorage.getItem(KEY_STORE) ?? '';
els.key.addEventListener('input', () => {
  const v = els.key.value.trim();
  if (v) localStorage.setItem(KEY_STORE, v);
  else localStorage.removeItem(KEY_STORE);
});

function chooseFile(file) {
  chosenFile = file ?? null;
  els.fileName.textContent = chosenFile ? `${chosenFile.name} (${(chosenFile.size / 1048576).toFixed(1)} MB)` : '';
  els.drop.classList.toggle('has-file', !!chosenFile);
  if (chosenFile) els.url.value = '';
}

els.file.addEventListener('change', () => chooseFile(els.file.files?.[0]));
els.url.addEventListener('input', () => {
  if (els.url.value.trim() && chosenFile) {
    chosenFile = null;
    els.file.value = '';
    chooseFile(null);
  }
});
for (const type of ['dragenter', 'dragover']) {
  els.drop.addEventListener(type, (e) => {
    e.preventDefault();
    els.drop.classList.add('dragging');
  });
}
for (const type of ['dragleave', 'dragend']) els.drop.addEventListener(type, () => els.drop.classList.remove('dragging'));
els.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  els.drop.classList.remove('dragging');
  const f = e.dataTransfer?.files?.[0];
  if (f) chooseFile(f);
});

// ---------- run

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!running) void run();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  clearError();
  const url = els.url.value.trim();
  if (!els.key.value.trim()) return showError('', 'enter an API key first', 401);
  if (!chosenFile && !url) return showError('014001001', 'choose a video file or enter a video URL');
  running = true;
  els.submit.disabled = true;
  els.result.hidden = true;
  try {
    let source;
    if (chosenFile) {
      setProgress(0, `Uploading ${chosenFile.name}…`);
      const fd = new FormData();
      fd.append('file', chosenFile, chosenFile.name);
      const video = await api('POST', '/v1/videos', fd);
      source = { video_id: video.video_id };
    } else {
      source = { video_url: url };
    }
    const playSrc = chosenFile ? (objectUrl = swapObjectUrl(chosenFile)) : url;
    let task = await api('POST', '/model/v1/generation', { model: 'kirin_identify_face', ...source });
    while (task.status === 'pending' || task.status === 'processing') {
      const pct = Math.round((task.progress ?? 0) * 100);
      setProgress(task.progress ?? 0, task.status === 'pending' ? `Task ${task.id}: waiting in the queue…` : `Task ${task.id}: analysing… ${pct}%`);
      await sleep(POLL_MS);
      task = await api('GET', `/model/v1/generation/${encodeURIComponent(task.id)}`);
    }
    if (task.status === 'failed') {
      setProgress(task.progress ?? 0, `Task ${task.id} failed.`);
      showError(task.error?.code ?? '', task.error?.error_message ?? 'the task failed');
      return;
    }
    setProgress(1, `Task ${task.id} completed in ${((task.metadata?.processing_ms ?? 0) / 1000).toFixed(1)} s.`);
    const result = JSON.parse(task.output[0].content[0].text);
    let tracks = null;
    try {
      tracks = await api('GET', `/model/v1/generation/${encodeURIComponent(task.id)}/tracks`);
    } catch {
      tracks = null; // an older service: lanes from the intervals alone
    }
    let perFrame = null;
    try {
      perFrame = await api('GET', `/model/v1/generation/${encodeURIComponent(task.id)}/tracks?frames=all`);
    } catch {
      perFrame = null; // boxes from the analysed samples instead
    }
    frameTracks = perFrame ? { taskId: task.id, doc: perFrame } : null;
    showResult(result, tracks, playSrc, perFrame);
  } catch (e) {
    if (e instanceof ApiError) showError(e.code, e.message, e.status);
    else showError('', e instanceof Error ? e.message : String(e));
    if (els.progressText.textContent && !els.status.hidden) els.progressText.textContent = 'Stopped.';
  } finally {
    running = false;
    els.submit.disabled = false;
  }
}

function swapObjectUrl(file) {
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  return URL.createObjectURL(file);
}

// ---------- result

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

function showResult(result, tracks, playSrc, perFrame = null) {
  const data = result.data;
  const video = data.video ?? tracks?.video ?? {};
  const trackOf = new Map((tracks?.faces ?? []).map((f) => [f.face_id, f]));
  const framesOf = new Map((perFrame?.faces ?? []).map((f) => [f.face_id, f.boxes]));
  const lanes = data.face_data.map((f, i) => ({
    id: f.face_id,
    label: `Face ${f.face_id}`,
    color: COLORS[i % COLORS.length],
    rejected: false,
    start: f.start_time,
    end: f.end_time,
    speaking: f.speaking ?? trackOf.get(f.face_id)?.speaking ?? [],
    track: trackOf.get(f.face_id)?.track ?? null,
    boxes: framesOf.get(f.face_id) ?? null,
    image: f.face_image,
  }));
  const rejected = tracks?.rejected_faces ?? data.rejected_faces ?? [];
  rejected.forEach((r, i) => {
    lanes.push({
      id: `rejected-${i}`,
      label: `Rejected ${i + 1}`,
      color: '#8a8f98',
      rejected: true,
      reason: r.reason,
      start: r.start_time,
      end: r.end_time,
      speaking: r.speaking ?? data.rejected_faces?.[i]?.speaking ?? [],
      track: r.track ?? null,
      boxes: perFrame?.rejected_faces?.[i]?.boxes ?? null,
    });
  });
  const durationMs = video.duration_ms || Math.max(1, ...lanes.map((l) => l.end));
  const audio = data.audio ?? tracks?.audio ?? null;
  view = { durationMs, width: video.width, height: video.height, audio, framesMs: perFrame?.frames_ms ?? null, lanes };

  els.raw.textContent = JSON.stringify(result, null, 2);
  els.copyStatus.textContent = '';
  els.player.src = playSrc;
  els.result.hidden = false;
  renderRuler(durationMs);
  renderLanes(lanes, durationMs);
  renderSoundtrack(audio, durationMs);
  renderCards(lanes.filter((l) => !l.rejected));
  renderTracksDownload(perFrame);
  drawOverlay();
}

/** The download button: the per-frame tracks as a JSON file (disabled when the service has none). */
function renderTracksDownload(perFrame) {
  els.downloadTracks.disabled = !perFrame;
  els.tracksStatus.textContent = perFrame
    ? `${perFrame.video?.frame_count ?? perFrame.frames_ms.length} frames × ${perFrame.faces.length + (perFrame.rejected_faces?.length ?? 0)} faces: box, 5 keypoints and lips on every frame`
    : 'Per-frame tracks are not available from this service.';
}

els.downloadTracks.addEventListener('click', () => {
  if (!frameTracks) return;
  const blob = new Blob([JSON.stringify(frameTracks.doc)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `tracks_${frameTracks.taskId}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

function renderRuler(durationMs) {
  els.ruler.replaceChildren();
  const seconds = durationMs / 1000;
  const step = seconds <= 10 ? 1 : seconds <= 30 ? 5 : 10;
  for (let s = 0; s <= seconds + 1e-9; s += step) {
    const tick = document.createElement('span');
    tick.className = 'tick';
    tick.style.left = `${((s * 1000) / durationMs) * 100}%`;
    tick.textContent = `${s}s`;
    els.ruler.append(tick);
  }
  const head = document.createElement('span');
  head.className = 'playhead';
  head.id = 'ruler-head';
  els.ruler.append(head);
}

function segment(cls, startMs, endMs, durationMs, title) {
  const s = document.createElement('span');
  s.className = `seg ${cls}`;
  s.style.left = `${(startMs / durationMs) * 100}%`;
  s.style.width = `${(Math.max(0, endMs - startMs) / durationMs) * 100}%`;
  if (title) s.title = title;
  return s;
}

/** "1.20–3.40 s, 4.00–5.10 s" */
const spanList = (spans) => spans.map((s) => `${(s.start_time / 1000).toFixed(2)}–${fmt(s.end_time)}`).join(', ');

/** The speaking band of a lane: one thin strip per span in which the face's own voice is heard. */
export function speakingBand(speaking, durationMs) {
  return (speaking ?? []).map((s) => segment('speaking', s.start_time, s.end_time, durationMs, `speaking ${fmt(s.start_time)}–${fmt(s.end_time)}`));
}

function renderLanes(lanes, durationMs) {
  els.lanes.replaceChildren();
  for (const lane of lanes) {
    const row = document.createElement('div');
    row.className = `lane-row${lane.rejected ? ' rejected' : ''}`;
    row.style.setProperty('--face', lane.color);

    const name = document.createElement('span');
    name.className = 'lane-name';
    name.textContent = lane.rejected ? 'Rejected' : lane.label;
    if (lane.rejected) name.title = `${lane.label}: ${lane.reason}`;

    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'lane';
    btn.dataset.faceId = lane.id;
    const what = lane.rejected ? `rejected (${lane.reason}) ${fmt(lane.start)} to ${fmt(lane.end)}` : `usable ${fmt(lane.start)} to ${fmt(lane.end)}`;
    const speaks = lane.speaking.length ? `speaking ${spanList(lane.speaking)}` : 'never speaking';
    btn.setAttribute('aria-label', `${lane.label}: ${what}; ${speaks}. Enter seeks to its start; click a point to seek there.`);

    const spans = lane.track?.spans ?? [];
    // the whole presence, faint; then its states; then the usable interval on top
    for (const sp of spans) {
      if (sp.state === 'unusable') btn.append(segment('unusable', sp.start_time, sp.end_time, durationMs, `unusable: ${sp.reason ?? 'unknown'} (${fmt(sp.start_time)}–${fmt(sp.end_time)})`));
      else if (sp.state === 'unseen') btn.append(segment('unseen', sp.start_time, sp.end_time, durationMs, `unseen (${fmt(sp.start_time)}–${fmt(sp.end_time)})`));
      else if (sp.state === 'usable') btn.append(segment('present', sp.start_time, sp.end_time, durationMs, `usable stretch ${fmt(sp.start_time)}–${fmt(sp.end_time)}`));
    }
    const interval = segment(lane.rejected ? 'rejected-interval' : 'interval', lane.start, lane.end, durationMs, what);
    if (lane.rejected) interval.textContent = String(lane.reason ?? 'rejected').replace(/_/g, ' ');
    btn.append(interval);
    // reasons written into wide enough unusable spans
    for (const sp of spans) {
      if (sp.state === 'unusable' && sp.reason && (sp.end_time - sp.start_time) / durationMs > 0.12) {
        const t = segment('reason', sp.start_time, sp.end_time, durationMs);
        t.textContent = sp.reason.replace(/_/g, ' ');
        btn.append(t);
      }
    }
    btn.append(...speakingBand(lane.speaking, durationMs));
    const head = document.createElement('span');
    head.className = 'playhead';
    btn.append(head);

    btn.addEventListener('click', (e) => {
      // a keyboard "click" has detail 0 and no position: go to the face's start
      if (e.detail === 0) return seekMs(lane.start);
      const r = btn.getBoundingClientRect();
      const frac = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
      seekMs(frac * durationMs);
    });
    btn.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        seekMs(els.player.currentTime * 1000 + (e.key === 'ArrowRight' ? 500 : -500));
      } else if (e.key === 'Home') {
        e.preventDefault();
        seekMs(lane.start);
      } else if (e.key === 'End') {
        e.preventDefault();
        seekMs(lane.end - 1);
      }
    });
    row.append(name, btn);
    els.lanes.append(row);
  }
}

/** A row under the lanes: when any voice is heard on the soundtrack (whoever speaks). */
function renderSoundtrack(audio, durationMs) {
  els.soundtrack.replaceChildren();
  els.soundtrack.hidden = !audio;
  if (!audio) return;
  const name = document.createElement('span');
  name.className = 'lane-name';
  name.textContent = 'Voice';
  const bar = document.createElement('div');
  bar.className = 'voice-lane';
  bar.setAttribute('role', 'img');
  if (!audio.present) {
    bar.classList.add('silent');
    bar.textContent = 'no audio stream';
    bar.setAttribute('aria-label', 'The video has no audio stream');
  } else {
    for (const s of audio.speech) bar.append(segment('voice', s.start_time, s.end_time, durationMs, `voice heard ${fmt(s.start_time)}–${fmt(s.end_time)}`));
    bar.setAttribute('aria-label', audio.speech.length ? `Voice heard ${spanList(audio.speech)}` : 'No voice heard on the soundtrack');
  }
  const head = document.createElement('span');
  head.className = 'playhead';
  bar.append(head);
  els.soundtrack.append(name, bar);
}

function renderCards(lanes) {
  els.faces.replaceChildren();
  els.noFaces.hidden = lanes.length > 0;
  for (const lane of lanes) {
    const li = document.createElement('li');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'face-card';
    btn.dataset.faceId = lane.id;
    btn.style.setProperty('--face', lane.color);
    btn.setAttribute('aria-label', `${lane.label}, usable ${fmt(lane.start)} to ${fmt(lane.end)}: play from its start`);
    const img = document.createElement('img');
    img.src = lane.image;
    img.alt = `Picture of face ${lane.id}`;
    img.decoding = 'async';
    const id = document.createElement('span');
    id.className = 'face-id';
    id.textContent = `face_id ${lane.id}`;
    const when = document.createElement('span');
    when.className = 'face-when';
    when.textContent = `${fmt(lane.start)} – ${fmt(lane.end)}`;
    const speaks = document.createElement('span');
    speaks.className = 'face-speaks';
    const talkMs = lane.speaking.reduce((sum, s) => sum + s.end_time - s.start_time, 0);
    speaks.textContent = talkMs ? `speaking ${fmt(talkMs)}` : 'not speaking';
    btn.append(img, id, when, speaks);
    btn.addEventListener('click', () => seekMs(lane.start));
    li.append(btn);
    els.faces.append(li);
  }
}

function seekMs(ms) {
  if (!view) return;
  const t = Math.max(0, Math.min(view.durationMs, ms)) / 1000;
  els.player.currentTime = t;
  updatePlayheads();
  drawOverlay();
}

// ---------- overlay and playheads

/** The sample nearest to t (samples sorted by t), or null. */
function nearestSample(samples, t) {
  if (!samples || samples.length === 0) return null;
  let lo = 0;
  let hi = samples.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  const a = samples[Math.max(0, lo - 1)];
  const b = samples[lo];
  return Math.abs(a.t - t) <= Math.abs(b.t - t) ? a : b;
}

/** Index of the frame shown at t (ms): the last frame starting at or before t; -1 before the first. */
export function frameAt(framesMs, t) {
  let lo = 0;
  let hi = framesMs.length - 1;
  if (hi < 0 || t < framesMs[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (framesMs[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The box to draw for a lane at t, in source pixels { x, y, width, height }: from the per-frame
 * tracks when there are any (null where the face is absent on that frame), else the nearest
 * analysed sample while the face is on screen.
 */
function boxAt(lane, t, frame) {
  if (lane.boxes && frame !== null) {
    const b = frame >= 0 ? lane.boxes[frame] : null;
    return b ? { x: b[0], y: b[1], width: b[2] - b[0], height: b[3] - b[1] } : null;
  }
  const span = lane.track ? spanAt(lane.track, t) : null;
  if (!span || span.state === 'unseen') return null;
  return nearestSample(lane.track.samples, t)?.box ?? null;
}

/** The span covering t, or null when the face is not on screen then. */
function spanAt(track, t) {
  for (const s of track.spans) if (t >= s.start_time && t < s.end_time) return s;
  return null;
}

function drawOverlay() {
  const c = els.overlay;
  const v = els.player;
  const w = v.clientWidth;
  const h = v.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
  }
  const ctx = c.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  let drawn = 0;
  /** The boxes drawn, [x1, y1, x2, y2] in source pixels, and the frame they belong to (for tests and tools). */
  const drawnBoxes = [];
  const srcW = view?.width || v.videoWidth;
  const srcH = view?.height || v.videoHeight;
  if (view && srcW && srcH && w && h) {
    // the picture inside the element (object-fit: contain)
    const k = Math.min(w / srcW, h / srcH);
    const ox = (w - srcW * k) / 2;
    const oy = (h - srcH * k) / 2;
    const t = v.currentTime * 1000;
    const frame = view.framesMs ? frameAt(view.framesMs, t) : null;
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    for (const lane of view.lanes) {
      const box = boxAt(lane, t, frame);
      if (!box) continue;
      const span = lane.track ? spanAt(lane.track, t) : null;
      const x = ox + box.x * k;
      const y = oy + box.y * k;
      const bw = box.width * k;
      const bh = box.height * k;
      drawnBoxes.push([box.x, box.y, box.x + box.width, box.y + box.height]);
      const usable = !lane.rejected && (span ? span.state === 'usable' : true) && t >= lane.start && t < lane.end;
      ctx.lineWidth = usable ? 3 : 2;
      ctx.strokeStyle = lane.color;
      ctx.setLineDash(usable ? [] : [6, 4]);
      ctx.strokeRect(x, y, bw, bh);
      const speaking = lane.speaking.some((sp) => t >= sp.start_time && t < sp.end_time);
      const label = (usable ? lane.label : `${lane.label}: ${span?.reason ?? lane.reason ?? 'not usable'}`) + (speaking ? ' · speaking' : '');
      const tw = ctx.measureText(label).width + 8;
      const ly = y > 20 ? y : y + bh + 20;
      ctx.setLineDash([]);
      ctx.fillStyle = lane.color;
      ctx.fillRect(x - 1.5, ly - 18, tw, 18);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, x + 3, ly - 3);
      drawn++;
    }
  }
  c.dataset.boxes = String(drawn);
  c.dataset.source = view?.framesMs ? 'frames' : 'samples';
  c.dataset.frame = view?.framesMs ? String(frameAt(view.framesMs, v.currentTime * 1000)) : '';
  c.dataset.drawn = JSON.stringify(drawnBoxes);
}

function updatePlayheads() {
  if (!view) return;
  const pct = `${Math.min(100, ((els.player.currentTime * 1000) / view.durationMs) * 100)}%`;
  for (const h of document.querySelectorAll('.playhead')) /** @type {HTMLElement} */ (h).style.left = pct;
}

let raf = 0;
function frame() {
  updatePlayheads();
  drawOverlay();
  raf = els.player.paused || els.player.ended ? 0 : requestAnimationFrame(frame);
}
els.player.addEventListener('play', () => {
  if (!raf) raf = requestAnimationFrame(frame);
});
for (const type of ['seeked', 'timeupdate', 'loadedmetadata', 'pause']) {
  els.player.addEventListener(type, () => {
    updatePlayheads();
    drawOverlay();
  });
}
window.addEventListener('resize', () => drawOverlay());
if ('ResizeObserver' in window) new ResizeObserver(() => drawOverlay()).observe(els.player);

// ---------- copy

els.copy.addEventListener('click', async () => {
  const text = els.raw.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    els.copyStatus.textContent = 'Copied.';
  } catch {
    const sel = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(els.raw);
    sel?.removeAllRanges();
    sel?.addRange(range);
    els.copyStatus.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
  }
});
