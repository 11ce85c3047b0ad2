/** Error codes of CONTRACT.md §3. Every user-facing failure carries one. */
export const ErrorCode = {
  BadRequest: '014001001',
  VideoIdUnknown: '014001002',
  DownloadFailed: '014001101',
  UrlNotAllowed: '014001102',
  FileTooLarge: '014001103',
  NotMp4OrMov: '014001104',
  DurationOutOfRange: '014001105',
  ResolutionNotSupported: '014001106',
  DimensionsOutOfRange: '014001107',
  Unreadable: '014001108',
  /** A lip-sync plan check's sound_file is not MP3, WAV or M4A (judged from the bytes). */
  SoundFileFormat: '014001109',
  /** A lip-sync plan check's sound_file is unreadable: no audio stream, corrupt, or of unknown length. */
  SoundFileUnreadable: '014001110',
  SessionUnknown: '014001201',
  Cancelled: '014001301',
  RateLimited: '014001401',
  Internal: '014002095',
  ResultParsing: '014002096',
  DependencyHttpError: '014002097',
  SyncGeneration: '014002099',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure the client caused or can act on; its message names the measured value and the limit. */
export class KirinError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string) {
    super(message);
    this.name = 'KirinError';
    this.code = code;
  }
  toJSON(): { code: string; error_message: string } {
    return { code: this.code, error_message: this.message };
  }
}

export function isKirinError(e: unknown): e is KirinError {
  return e instanceof KirinError;
}
