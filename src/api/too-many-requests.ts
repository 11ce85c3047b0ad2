import { ErrorCode, KirinError } from '../errors.js';

/** A `429` with the contract's code 014001401; the error handler sends `retryAfterSeconds` as `Retry-After`. */
export class TooManyRequests extends KirinError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(ErrorCode.RateLimited, message);
    this.name = 'TooManyRequests';
  }
}
