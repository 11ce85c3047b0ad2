/** A one-line progress bar on a terminal; silent when stderr is not a terminal. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update(f: number): void; done(): void } {
  if (!stream.isTTY) return { update() {}, done() {} };
  let shown = -1;
  return {
    update(f: number) {
      const pct = Math.max(0, Math.min(100, Math.floor(f * 100)));
      if (pct === shown) return;
      shown = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}%`);
    },
    done() {
      if (shown >= 0) stream.write('\n');
    },
  };
}
