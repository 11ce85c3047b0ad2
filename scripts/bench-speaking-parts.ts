// npm run bench:speaking-parts [-- [--parts] DIR…] — how well the synchrony tells a face's own
// voice from another's, part by part, as the decision sees it. For every video with a truth file
// in each folder (default: ../shared/bench/speaking and the sets of scripts/speaking-cases/ that
// bench:speaking-cases has built in .bench-out/speaking-cases/), runs the analysis, judges each
// part of the speech for each face present (judgeParts) and labels the judgement by the truth:
// "own" when the part is that face's voice for 80% of it or more, "other" when for 20% or less
// (parts in between, where the voice changes hands, are left out). Prints the AUC of the
// synchrony, and of synchrony × spread (what the decision ranks faces by), per folder and over
// all: the chance that an own part scores above an other part. --parts lists every judgement.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { speakingFaces } from '../src/analysis/analyze.js';
import { judgeParts } from '../src/analysis/speaking.js';
import type { IdentifiedFace } from '../src/analysis/types.js';
import { loadEngineConfig } from '../src/config.js';
import { validateVideoFile } from '../src/media/validate.js';
import { analyzeVideo } from '../src/pipeline/analyze-video.js';
import { loadFaceModels } from '../src/vision/models.js';
import { baseName, repoRoot, sharedBench } from './bench-common.js';

interface TruthFace { start_time: number; end_time: number; speaking?: { start_time: number; end_time: number }[] }
interface Scored { folder: string; video: string; face: string; fromMs: number; toMs: number; share: number; sync: number; spread: number; motion: number }

const args = process.argv.slice(2);
const listParts = args.includes('--parts');
const given = args.filter((a) => a !== '--parts');
const folders = given.length
  ? given.map((d) => resolve(d))
  : [join(sharedBench, 'speaking'), ...['tune', 'check', 'check2'].map((s) => join(repoRoot, '.bench-out', 'speaking-cases', s))].filter((d) => existsSync(d));
if (!folders.length) {
  console.error(`bench:speaking-parts needs folders of videos with .truth.json files (default: ${join(sharedBench, 'speaking')})`);
  process.exit(2);
}

// the settings `kirin identify` runs with in this environment (KIRIN_EXACT_DECODE, KIRIN_MODEL_THREADS), speaking on
const engine = loadEngineConfig(process.env);

/** Result faces matched to true faces one to one by the overlap of their intervals, greatest first (as score-speaking.mjs does). */
function matchTruth(faces: readonly IdentifiedFace[], truth: readonly TruthFace[]): Map<number, TruthFace> {
  const overlap = (a: { start: number; end: number }, b: TruthFace) => {
    const inter = Math.max(0, Math.min(a.end, b.end_time) - Math.max(a.start, b.start_time));
    const union = Math.max(a.end, b.end_time) - Math.min(a.start, b.start_time);
    return union > 0 ? inter / union : 0;
  };
  const pairs: [number, number, number][] = [];
  truth.forEach((t, i) => faces.forEach((f, j) => pairs.push([overlap({ start: f.startMs, end: f.endMs }, t), i, j])));
  pairs.sort((a, b) => b[0] - a[0]);
  const truthOf = new Map<number, TruthFace>(), used = new Set<number>();
  for (const [v, i, j] of pairs) {
    if (v < 0.3 || used.has(i) || truthOf.has(j)) continue;
    truthOf.set(j, truth[i]);
    used.add(i);
  }
  return truthOf;
}

async function scoreVideo(folder: string, video: string, truth: readonly TruthFace[]): Promise<Scored[]> {
  const path = join(folder, video);
  const info = await validateVideoFile(path);
  const analysis = await analyzeVideo(path, info, loadFaceModels({ threads: engine.modelThreads }), { config: engine.analysis, sampling: engine.sampling, audio: true });
  if (!analysis.voice) return [];
  const { faces, rejected } = analysis.result;
  const truthOf = matchTruth(faces, truth);
  const out: Scored[] = [];
  for (const { part, judged } of judgeParts(speakingFaces(faces, rejected), analysis.voice)) {
    for (const { face, judgement } of judged) {
      const t = truthOf.get(face);
      if (!t) continue; // a rejected or unmatched face: the truth says nothing of it
      const own = (t.speaking ?? []).reduce((s, x) => s + Math.max(0, Math.min(x.end_time, part.endMs) - Math.max(x.start_time, part.startMs)), 0);
      out.push({ folder, video, face: faces[face].faceId, fromMs: part.startMs, toMs: part.endMs, share: own / (part.endMs - part.startMs), ...judgement });
    }
  }
  return out;
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
  const sync = auc(own.map((r) => r.sync), other.map((r) => r.sync));
  const ranked = auc(own.map((r) => r.sync * r.spread), other.map((r) => r.sync * r.spread));
  return `speaking parts ${label}: own ${own.length}, other ${other.length}, AUC synchrony ${sync.toFixed(3)}, synchrony × spread ${ranked.toFixed(3)}`;
}

const all: Scored[] = [];
for (const folder of folders) {
  const rows: Scored[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.truth.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { video: string; faces: TruthFace[] };
    if (!doc.faces.some((f) => Array.isArray(f.speaking)) || !existsSync(join(folder, doc.video))) continue;
    const scored = await scoreVideo(folder, doc.video, doc.faces);
    if (listParts) for (const r of scored) console.log(`${baseName(r.video)} face ${r.face} ${Math.round(r.fromMs)}-${Math.round(r.toMs)} own ${r.share.toFixed(2)} sync ${r.sync.toFixed(3)} spread ${r.spread.toFixed(3)} motion ${r.motion.toFixed(3)}`);
    rows.push(...scored);
  }
  console.log(summary(folder.split('/').slice(-2).join('/'), rows));
  all.push(...rows);
}
if (folders.length > 1) console.log(summary('all', all));
process.exit(0);
