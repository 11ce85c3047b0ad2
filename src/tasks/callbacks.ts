import { createHmac } from 'node:crypto';
import { unixSeconds, type Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { newId } from '../storage/ids.js';
import type { AddressRules, HostLookup } from '../net/url-guard.js';
import type { Repositories } from '../storage/repositories/index.js';
import { CallbackRefused, postCallback } from './callback-post.js';

/** `X-Kirin-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>` (CONTRACT.md §4). */
export function signCallback(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * Callback deliveries kept in the database, so none is lost on a restart. A delivery loop sends
 * due ones in the background (never in a task's way), retrying with exponential backoff. Any
 * number of processes may run the loop: each delivery is claimed first (its next attempt moved past
 * the time the attempt may take, by a compare-and-set on the old time), so only one process sends it.
 * A callback URL follows the video URL's rules (net/url-guard.ts); a delivery they refuse is not
 * sent, not retried, and kept as `refused` with the reason in last_error.
 */
export class CallbackQueue {
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<string>();

  constructor(
    private readonly repositories: Pick<Repositories, 'callbacks'>,
    private readonly config: ServiceConfig['callbacks'],
    private readonly secret: string,
    private readonly clock: Clock,
    /** The outbound URL rules (KIRIN_ALLOW_PRIVATE_URLS); `lookup` is for tests. */
    private readonly rules: AddressRules & { lookup?: HostLookup } = { allowPrivate: false },
  ) {}

  /**
   * Queues the callback of a task that just settled, inside the transaction that settled it, so
   * the two happen together or not at all (`tx`: the repositories of that transaction).
   * A task has at most one callback: a repeat is a no-op.
   */
  async enqueueIn(tx: Pick<Repositories, 'callbacks'>, taskId: string, url: string, body: string): Promise<void> {
    const now = this.clock.now();
    await tx.callbacks.add({ id: newId('cb'), task_id: taskId, url, body, status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, created_at: now });
  }

  start(everyMs = 500): void {
    this.timer = setInterval(() => this.deliverDue(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  deliverDue(): void {
    void (async () => {
      const due = await this.repositories.callbacks.due(this.clock.now(), 20);
      for (const cb of due) {
        if (this.inFlight.has(cb.id)) continue;
        this.inFlight.add(cb.id);
        void (async () => {
          if (await this.claim(cb.id, cb.next_attempt_at)) await this.attempt(cb);
        })()
          .catch(() => undefined)
          .finally(() => this.inFlight.delete(cb.id));
      }
    })().catch(() => undefined);
  }

  /** Takes a due delivery for this process; false when another process took it first. */
  private claim(id: string, dueAt: number): Promise<boolean> {
    return this.repositories.callbacks.claim(id, dueAt, this.clock.now() + this.config.timeoutMs + 5000);
  }

  private async attempt(cb: { id: string; url: string; body: string; attempts: number }): Promise<void> {
    const attempts = cb.attempts + 1;
    let error: string | null = null;
    let refused = false;
    try {
      const status = await postCallback(cb.url, cb.body, {
        ...this.rules,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'kirin-face-callback/1',
          'x-kirin-signature': signCallback(this.secret, cb.body, unixSeconds(this.clock.now())),
        },
        timeoutMs: this.config.timeoutMs,
      });
      if (status >= 300 && status < 400) error = `HTTP ${status} (redirects are not followed)`;
      else if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      refused = e instanceof CallbackRefused;
      error = e instanceof Error ? e.message : String(e);
    }
    const giveUp = error !== null && attempts >= this.config.maxAttempts;
    await this.repositories.callbacks.recordAttempt(cb.id, {
      attempts,
      status: error === null ? 'delivered' : refused ? 'refused' : giveUp ? 'failed' : 'pending',
      last_error: error,
      next_attempt_at: this.clock.now() + this.config.firstDelayMs * 2 ** (attempts - 1),
    });
  }
}
