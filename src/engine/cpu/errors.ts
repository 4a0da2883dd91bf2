import type { ErrorCode } from '../../core/errors.ts';

/** The codes the engine itself can raise (a subset of core's, so the worker can map them 1:1). */
export type EngineErrorCode = Extract<ErrorCode, 'NON_FINITE' | 'ENGINE_FAILED' | 'ABORTED'>;

/**
 * A failure of the engine on one matrix. The worker adds the file and tensor (ScanError).
 * Aborts carry name 'AbortError' so that code that checks `err.name === 'AbortError'`, as for
 * fetch, treats them alike.
 */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code === 'ABORTED' ? 'AbortError' : 'EngineError';
  }
}

export function abortError(): EngineError {
  return new EngineError('ABORTED', 'singular values: aborted');
}
