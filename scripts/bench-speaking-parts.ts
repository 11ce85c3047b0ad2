// npm run bench:speaking-parts [-- [--parts] [--rule NAME=VALUE …] DIR…] — who is speaking, judged
// again and again over the same analyses: the evidence part by part, and the decision video by
// video. For every video with a truth file in each folder (default: ../shared/bench/speaking and
// the sets of scripts/speaking-cases/ that bench:speaking-cases has built in
// .bench-out/speaking-cases/), runs the analysis once (kept in .bench-out/speaking-parts/analyses
// until the video, the engine settings or the code before the speaking rules change), then:
// - judges each part of the speech for each face present (judgeParts) and labels the judgement
//   by the truth: "own" when the part is that face's voice for 80% of it or more, "other" when for
//   20% or less (parts where the voice changes hands are left out); prints the AUC of the
//   synchrony, of the opening's correlation, of the evidence (the two weighed together) and of
//   evidence × spread (what the decision ranks faces by): the chance that an own part scores
//   above an other part;
// - decides who speaks (attributeSpeech) and scores it with the benchmark's score-speaking.mjs.
// --rule NAME=VALUE replaces one of SPEAKING_RULES (src/analysis/speaking.ts) for this run, so a
// rule can be tried over every set in seconds; --parts lists every judgement.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { speakingFaces } from '../src/analysis/analyze.js';
import { decideSpeakers, evidence, judgeParts, SPEAKING_RULES, type SpeakingFace, type SpeakingRules } from '../src/analysis/speaking.js';
import type { TimeSpan, VoiceActivity } from '../src/analysis/types.js';
import { loadEngineConfig } from '../src/config.js';
import { validateVideoFile } from '../src/media/validate.js';
import { analyzeVideo } from '../src/pipeline/analyze-video.js';
import { loadFaceModels } from '../src/vision/models.js';
import { SPEAKING_CASE_SETS, baseName, benchTool, repoRoot, sharedBench, type SpeakingTruth } from './bench-common.js';

type TruthFace = SpeakingTruth['faces'][number];
/** The voice's per-hop arrays, kept as JSON arrays. */
const VOICE_ARRAYS = ['probability', 'energy', 'opening'] as const;
type VoiceArray = (typeof VOICE_ARRAYS)[number];
type KeptVoice = Omit<VoiceActivity, VoiceArray> & Record<VoiceArray, number[]>;
/** Each of the voice's per-hop arrays, converted. */
const voiceArrays = <T>(v: Record<VoiceArray, ArrayLike<number>>, to: (a: ArrayLike<number>) => T) =>
  Object.fromEntries(VOICE_ARRAYS.map((k) => [k, to(v[k])])) as Record<VoiceArray, T>;
/** What the speaking rules need of one analysis, and where each face is: kept between runs. */
interface Analysis {
  key: string;
  voice: KeptVoice | null;
  /** Accepted faces (interval and id, as the result gives them), then rejected ones, in speakingFaces' order. */
  faces: (SpeakingFace & { faceId?: string; interval: TimeSpan })[];
}
interface Scored { folder: string; video: string; face: string; fromMs: number; toMs: number; share: number; sync: number; opening: number; evidence: number; spread: number; motion: number }

const usage = (): never => {
  console.error(`usage: npm run bench:speaking-parts [-- [--parts] [--rule NAME=VALUE …] DIR…]   (NAME one of ${Object.keys(SPEAKING_RULES).join(', ')}, VALUE a number)`);
  process.exit(2);
};
const parsed = (() => {
  try {
    return parseArgs({ allowPositionals: true, options: { parts: { type: 'boolean' }, rule: { type: 'string', multiple: true } } });
  } catch {
    return usage();
  }
})();
const listParts = parsed.values.parts === true;
const given = parsed.positionals;
const rules: SpeakingRules = { ...SPEAKING_RULES };
for (const rule of parsed.values.rule ?? []) {
  const [name, value] = rule.split('=');
  if (!(name in SPEAKING_RULES) || !Number.isFinite(Number(value))) usage();
  (rules as Record<string, number>)[name] = Number(value);
}
const folders = given.length
  ? given.map((d) => resolve(d))
  : [join(sharedBench, 'speaking'), ...SPEAKING_CASE_SETS.map((s) => join(repoRoot, '.bench-out', 'speaking-cases', s))].filter((d) => existsSync(d));
if (!folders.length) {
  console.error(`bench:speaking-parts needs folders of videos with .truth.json files (default: ${join(sharedBench, 'speaking')})`);
  process.exit(2);
}
const changed = Object.entries(rules).filter(([k, v]) => v !== SPEAKING_RULES[k as keyof SpeakingRules]);
if (changed.length) console.log(`rules changed: ${changed.map(([k, v]) => `${k}=${v}`).join(', ')}`);

// the settings `kirin identify` runs with in this environment (KIRIN_EXACT_DECODE, KIRIN_MODEL_THREADS), speaking on
const engine = loadEngineConfig(process.env);
const out = join(repoRoot, '.bench-out', 'speaking-parts');
const kept = join(out, 'analyses');
mkdirSync(kept, { recursive: true });

/** Everything the kept analyses depend on but the video: the engine settings and the code, except the speaking rules this script varies. */
const codeKey = (() => {
  // this script too: it decides what is kept of an analysis
  const hash = createHash('sha256').update(JSON.stringify(engine)).update(readFileSync(new URL(import.meta.url)));
  const src = join(repoRoot, 'src');
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== join('analysis', 'speaking.ts')).sort()) hash.update(file).update(readFileSync(join(src, file)));
  return hash.digest('hex');
})();

async function analysisOf(path: string): Promise<Analysis> {
  const { size, mtimeMs } = statSync(path);
  const key = createHash('sha256').update(`${codeKey} ${path} ${size} ${mtimeMs}`).digest('hex');
  const file = join(kept, `${createHash('sha256').update(path).digest('hex').slice(0, 16)}.json`);
  if (existsSync(file)) {
    const a = JSON.parse(readFileSync(file, 'utf8')) as Analysis;
    if (a.key === key) return a;
  }
  const info = await validateVideoFile(path);
  const analysis = await analyzeVideo(path, info, loadFaceModels({ threads: engine.modelThreads }), { config: engine.analysis, sampling: engine.sampling, audio: true });
  const { faces, rejected } = analysis.result;
  const v = analysis.voice;
  const a: Analysis = {
    key,
    voice: v ? { ...v, ...voiceArrays(v, (x) => Array.from(x)) } : null,
    faces: speakingFaces(faces, rejected).map((f, i) => {
      const listed: { faceId?: string; startMs: number; endMs: number } = faces[i] ?? rejected[i - faces.length];
      return { ...f, samples: f.samples.map(({ timeMs, mouthMotion, lips }) => ({ timeMs, mouthMotion, lips })), faceId: listed.faceId, interval: { startMs: listed.startMs, endMs: listed.endMs } };
    }),
  };
  writeFileSync(file, JSON.stringify(a));
  return a;
}

/** Result faces matched to true faces one to one by the overlap of their intervals, greatest first (as score-speaking.mjs does). */
function matchTruth(faces: readonly { startMs: number; endMs: number }[], truth: readonly TruthFace[]): Map<number, TruthFace> {
  const overlap = (a: { startMs: number; endMs: number }, b: TruthFace) => {
    const inter = Math.max(0, Math.min(a.endMs, b.end_time) - Math.max(a.startMs, b.start_time));
    const union = Math.max(a.endMs, b.end_time) - Math.min(a.startMs, b.start_time);
    return union > 0 ? inter / union : 0;
  };
  const pairs: [number, number, number][] = [];
  truth.forEach((t, i) => faces.forEach((f, j) => pairs.push([overlap(f, t), i, j])));
  pairs.sort((a, b) => b[0] - a[0]);
  const truthOf = new Map<number, TruthFace>(), used = new Set<number>();
  for (const [v, i, j] of pairs) {
    if (v < 0.3 || used.has(i) || truthOf.has(j)) continue;
    truthOf.set(j, truth[i]);
    used.add(i);
  }
  return truthOf;
}

/** Judges every part (rows for the AUC) and decides who speaks (the result JSON score-speaking.mjs reads). */
function judgeVideo(folder: string, video: string, a: Analysis, truth: readonly TruthFace[]): { rows: Scored[]; result: object } {
  const accepted = a.faces.filter((f) => f.faceId !== undefined);
  const voice: VoiceActivity | undefined = a.voice ? { ...a.voice, ...voiceArrays(a.voice, (x) => Float32Array.from(x)) } : undefined;
  const parts = voice ? judgeParts(a.faces, voice, rules) : [];
  const truthOf = matchTruth(accepted.map((f) => f.interval), truth);
  const rows: Scored[] = [];
  for (const { part, judged } of parts) {
    for (const { face, judgement } of judged) {
      const t = truthOf.get(face);
      if (!t) continue; // a rejected or unmatched face: the truth says nothing of it
      const own = (t.speaking ?? []).reduce((s, x) => s + Math.max(0, Math.min(x.end_time, part.endMs) - Math.max(x.start_time, part.startMs)), 0);
      rows.push({ folder, video, face: a.faces[face].faceId!, fromMs: part.startMs, toMs: part.endMs, share: own / (part.endMs - part.startMs), ...judgement, evidence: evidence(judgement, rules) });
    }
  }
  const spans = decideSpeakers(a.faces, parts, rules);
  const span = (s: TimeSpan) => ({ start_time: s.startMs, end_time: s.endMs });
  const result = {
    data: {
      face_data: accepted.map((f, i) => ({ face_id: f.faceId, ...span(f.interval), speaking: spans[i].map(span) })),
      rejected_faces: a.faces.slice(accepted.length).map((f, i) => ({ ...span(f.interval), speaking: spans[accepted.length + i].map(span) })),
    },
  };
  return { rows, result };
}

/** The chance that a value drawn from `own` is above one drawn from `other` (ties count half). */
function auc(own: readonly number[], other: readonly number[]): number {
  let wins = 0;
  for (const a of own) for (const b of other) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (own.length * other.length);
}

function summary(label: string, rows: readonly Scored[]): string {
  const own = rows.filter((r) => r.share >= 0.8), other = rows.filter((r) => r.share <= 0.2);
  if (!own.length || !other.length) return `speaking parts ${label}: own ${own.length}, other ${other.length} (too few to compare)`;
  const of = (value: (r: Scored) => number) => auc(own.map(value), other.map(value)).toFixed(3);
  return `speaking parts ${label}: own ${own.length}, other ${other.length}, AUC synchrony ${of((r) => r.sync)}, opening ${of((r) => r.opening)}, evidence ${of((r) => r.evidence)}, evidence × spread ${of((r) => r.evidence * r.spread)}`;
}

const all: Scored[] = [];
for (const folder of folders) {
  const label = folder.split('/').slice(-2).join('/');
  const results = join(out, 'results', label.replace('/', '-'));
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const rows: Scored[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.truth.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(folder, file), 'utf8')) as SpeakingTruth;
    if (!doc.faces.some((f) => Array.isArray(f.speaking)) || !existsSync(join(folder, doc.video))) continue;
    const judged = judgeVideo(folder, doc.video, await analysisOf(join(folder, doc.video)), doc.faces);
    writeFileSync(join(results, `${baseName(doc.video)}.json`), JSON.stringify(judged.result));
    if (listParts) for (const r of judged.rows) console.log(`${baseName(r.video)} face ${r.face} ${Math.round(r.fromMs)}-${Math.round(r.toMs)} own ${r.share.toFixed(2)} sync ${r.sync.toFixed(3)} opening ${r.opening.toFixed(3)} spread ${r.spread.toFixed(3)} motion ${r.motion.toFixed(3)}`);
    rows.push(...judged.rows);
  }
  console.log(summary(label, rows));
  const scorer = benchTool(folder, 'score-speaking.mjs');
  if (scorer) {
    const scored = spawnSync(process.execPath, [scorer, folder, results], { encoding: 'utf8' }).stdout.match(/^speaking F1.*$/m)?.[0];
    console.log(`  ${scored ?? `score-speaking.mjs gave no summary for ${relative(repoRoot, results)}`}`);
  }
  all.push(...rows);
}
if (folders.length > 1) console.log(summary('all', all));
process.exit(0);
