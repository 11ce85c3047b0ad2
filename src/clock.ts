/** Time source, injectable so retention and expiry can be tested with a fake clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Milliseconds to the Unix seconds the API speaks. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);
