export { KirinClient, type FileInput, type IdentifyOptions, type IdentifySource, type KirinClientOptions, type ListTasksQuery, type WaitOptions } from './client.ts';
export { ErrorCode, KirinError, KirinTaskFailedError, KirinTimeoutError, isKirinError, type KirinErrorDetails, type KnownErrorCode } from './errors.ts';
export { parseResult } from './result.ts';
export { parseCallback, verifyCallbackSignature, type VerifyOptions } from './signature.ts';
export * from './types.ts';
