// How open a voice sounds, hop by hop: closed lips damp the middle of the spectrum (the first
// formant falls and the sound passes through the nose), an open mouth lets it through. The
// measure is the log energy of 500–1500 Hz less that of 80–400 Hz, each floored at silence, so
// a nasal's low murmur reads as closed and an open vowel as open, whatever the loudness.

const BANDS = { low: [80, 400], middle: [500, 1500] } as const;
/** A band's energy (mean square per hop, Hann-windowed) below this counts as silence. */
const SILENT_BAND = 1e-5;

/** Cosine and sine of every bin of the two bands over one hop, the hop's window, and room for a windowed hop. */
interface Tables {
  window: Float64Array;
  windowed: Float64Array;
  bins: { cos: Float64Array; sin: Float64Array; middle: boolean }[];
}
const tables = new Map<string, Tables>();

function tablesFor(hopSamples: number, sampleRate: number): Tables {
  const key = `${hopSamples}/${sampleRate}`;
  let t = tables.get(key);
  if (!t) {
    const window = Float64Array.from({ length: hopSamples }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (hopSamples - 1)));
    const bins: Tables['bins'] = [];
    for (let k = 1; k < hopSamples / 2; k++) {
      const f = (k * sampleRate) / hopSamples;
      const middle = f >= BANDS.middle[0] && f < BANDS.middle[1];
      if (!middle && !(f >= BANDS.low[0] && f < BANDS.low[1])) continue;
      const w = (2 * Math.PI * k) / hopSamples;
      bins.push({ cos: Float64Array.from({ length: hopSamples }, (_, n) => Math.cos(w * n)), sin: Float64Array.from({ length: hopSamples }, (_, n) => Math.sin(w * n)), middle });
    }
    t = { window, windowed: new Float64Array(hopSamples), bins };
    tables.set(key, t);
  }
  return t;
}

/** The opening measure of one hop of samples (each in -1..1): log energy of the middle band less that of the low band. */
export function soundOpening(hop: Float32Array, sampleRate: number): number {
  const { window, windowed, bins } = tablesFor(hop.length, sampleRate);
  for (let n = 0; n < hop.length; n++) windowed[n] = hop[n] * window[n];
  let low = 0, middle = 0;
  for (const b of bins) {
    let re = 0, im = 0;
    for (let n = 0; n < windowed.length; n++) {
      re += windowed[n] * b.cos[n];
      im -= windowed[n] * b.sin[n];
    }
    const power = (re * re + im * im) / hop.length;
    if (b.middle) middle += power;
    else low += power;
  }
  const floor = Math.log(SILENT_BAND * hop.length);
  return Math.max(Math.log(middle + 1e-12), floor) - Math.max(Math.log(low + 1e-12), floor);
}
