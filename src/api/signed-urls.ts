import { createHmac, timingSafeEqual } from 'node:crypto';
import { unixSeconds } from '../clock.js';

/** URLs of face pictures that work without a key until `exp` (Unix seconds), bound to one file id. */
export class UrlSigner {
  constructor(private readonly secret: Buffer, private publicUrl: string) {}

  /** Set once the listening port is known, when no public URL was configured. */
  setPublicUrl(url: string): void {
    this.publicUrl = url;
  }

  private sig(fileId: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`file:${fileId}:${exp}`).digest('base64url');
  }

  url(fileId: string, expiresAtMs: number): string {
    const exp = unixSeconds(expiresAtMs);
    return `${this.publicUrl}/files/${fileId}.jpg?exp=${exp}&sig=${this.sig(fileId, exp)}`;
  }

  /** Whether a presented signature is valid for the file and not expired at `nowMs`. */
  verify(fileId: string, exp: number, sig: string, nowMs: number): boolean {
    if (!Number.isInteger(exp) || exp * 1000 < nowMs) return false;
    const expected = Buffer.from(this.sig(fileId, exp));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
