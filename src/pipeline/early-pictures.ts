import { rm } from 'node:fs/promises';
import type { BestView } from '../analysis/types.js';

/**
 * Pictures cut while the analysis goes on. When a hard cut ends a shot, the best view of each
 * face in it is known (as the shot alone shows it), and its picture is cut then, one at a time,
 * beside the analysis, instead of all of them after it. A face whose final best view is another
 * one (its interval spans a cut, say) is cut afterwards as before; a picture nobody takes is removed.
 */
export class EarlyPictures {
  private readonly cuts = new Map<string, Promise<string | undefined>>();
  private last: Promise<unknown> = Promise.resolve();
  private made = 0;

  constructor(
    /** Cuts the picture of a view into a file. */
    private readonly cut: (view: BestView, file: string) => Promise<void>,
    /** The n-th file name to cut into. */
    private readonly fileFor: (n: number) => string,
  ) {}

  /** Queues the pictures of these views (one cut at a time). */
  offer(views: readonly BestView[]): void {
    for (const view of views) {
      const key = viewKey(view);
      if (this.cuts.has(key)) continue;
      const file = this.fileFor(this.made++);
      const done = this.last.then(() => this.cut(view, file)).then(
        () => file,
        () => undefined,
      );
      this.last = done;
      this.cuts.set(key, done);
    }
  }

  /** The file cut for exactly this view (the same frame and box), once it is written; undefined if none was (or it failed). */
  async take(view: BestView): Promise<string | undefined> {
    const key = viewKey(view);
    const cut = this.cuts.get(key);
    this.cuts.delete(key);
    return cut;
  }

  /** Waits for every cut still running and removes the pictures nobody took. */
  async settle(): Promise<void> {
    const left = [...this.cuts.values()];
    this.cuts.clear();
    for (const cut of left) {
      const file = await cut;
      if (file) await rm(file, { force: true });
    }
  }
}

const viewKey = (v: BestView) => {
  const b = v.sighting.box;
  return `${v.timeMs}|${b.x},${b.y},${b.width},${b.height}`;
};
