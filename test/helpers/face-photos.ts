import { ffmpeg, sampleImage } from './make-video.ts';

/**
 * Single people cut out of face-api's demo photos (face boxes measured on the photo scaled to
 * 1920 px wide). Each crop is about three face-heights square around one frontal face.
 */
const PEOPLE = {
  a: { sample: 1, face: [1492, 255, 172, 173] },
  b: { sample: 3, face: [1480, 330, 211, 238] },
  c: { sample: 5, face: [359, 906, 226, 260] },
  // beside b on the same photo (same light, age, smile): the two different people the appearance
  // model finds most alike among the demo photos (cosine 0.94 with one aligned view each)
  d: { sample: 3, face: [1072, 236, 238, 266] },
} as const;

export type PersonName = keyof typeof PEOPLE;

/** Which demo photo a person is on and their face box [x, y, w, h] on it (scaled to 1920 px wide). */
export function personOnPhoto(name: PersonName): { sample: 1 | 3 | 5; face: readonly [number, number, number, number] } {
  return PEOPLE[name];
}

/** Writes a PNG portrait of one person and returns its path. */
export async function portrait(name: PersonName, outFile: string): Promise<string> {
  const { sample, face } = PEOPLE[name];
  const [x, y, w, h] = face;
  const side = Math.round(Math.max(w, h) * 2.8);
  const cx = x + w / 2, cy = y + h / 2;
  const x0 = Math.max(0, Math.round(cx - side / 2)), y0 = Math.max(0, Math.round(cy - side / 2.4));
  await ffmpeg(['-i', sampleImage(sample), '-vf', `scale=1920:-2,crop=${side}:${side}:${x0}:${y0}:exact=1`, '-frames:v', '1', outFile]);
  return outFile;
}
