import { lowerPriority } from '../priority.js';

/** How much nicer than it was the analysis thread runs once its decoder is going (19 is the nicest). */
const ANALYSIS_NICE = 8;

let lowered = false;

/**
 * Lowers the CPU priority of the calling thread (on Linux a nice value is a thread's own), once
 * per thread. An analysis thread calls it when its decoder is running: ffmpeg, the thread reading
 * its frames and V8's compiler and collector threads keep theirs, so on a core they share with the
 * models they go first, and the analysis waits less for them (2 cores: 6–7% sooner on the
 * multi-face clip, README's design notes). A process cannot raise a priority back: a service's
 * analysis thread stays lowered for the tasks after (below the HTTP thread, as it should be), and
 * the decoders it starts then inherit its lowered priority.
 */
export function lowerAnalysisPriority(): void {
  if (lowered) return;
  lowered = true;
  lowerPriority(ANALYSIS_NICE);
}
