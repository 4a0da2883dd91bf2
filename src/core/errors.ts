/**
 * Typed errors: every failure that a file can cause has a code, and a one-line message that names
 * the file and, where there is one, the tensor. Codes survive worker boundaries (see toErrorRecord).
 */
export type ErrorCode =
  | 'TRUNCATED'
  | 'HEADER_TOO_SHORT'
  | 'HEADER_LENGTH_OUT_OF_RANGE'
  | 'HEADER_TOO_LARGE'
  | 'HEADER_INVALID_JSON'
  | 'HEADER_NOT_OBJECT'
  | 'TENSOR_ENTRY_INVALID'
  | 'UNKNOWN_DTYPE'
  | 'SHAPE_INVALID'
  | 'SHAPE_BYTE_MISMATCH'
  | 'OFFSET_OUT_OF_RANGE'
  | 'OFFSETS_OVERLAP'
  | 'OFFSET_MISALIGNED'
  | 'DUPLICATE_TENSOR'
  | 'INDEX_INVALID'
  | 'MISSING_SHARD'
  | 'MISSING_TENSOR'
  | 'NOT_A_CHECKPOINT'
  | 'GGUF_INVALID'
  | 'NON_FINITE'
  | 'READ_FAILED'
  | 'FILE_CHANGED'
  | 'TOO_LARGE'
  | 'ENGINE_FAILED'
  | 'ABORTED'
  // writing a checkpoint from two (extract-lora, rewind, truncate)
  | 'ARCHITECTURES_DIFFER'
  | 'SHAPES_DIFFER'
  | 'DTYPES_DIFFER'
  | 'WRITE_FAILED';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  constructor(
    readonly code: ErrorCode,
    readonly file: string,
    readonly tensor: string | undefined,
    readonly detail: string,
  ) {
    super(formatMessage(file, tensor, detail));
  }

  toRecord(): ErrorRecord {
    return { file: this.file, ...(this.tensor !== undefined ? { tensor: this.tensor } : {}), code: this.code, message: this.message };
  }
}

/**
 * The record of a problem with one tensor, without an Error: a header may list a quarter of a million
 * bad entries, and capturing a stack trace for each costs seconds. Same fields as ScanError.toRecord.
 */
export function errorRecord(code: ErrorCode, file: string, tensor: string | undefined, detail: string): ErrorRecord {
  return { file, ...(tensor !== undefined ? { tensor } : {}), code, message: formatMessage(file, tensor, detail) };
}

function formatMessage(file: string, tensor: string | undefined, detail: string): string {
  const where = tensor === undefined ? file : `${file}: tensor "${tensor}"`;
  return oneLineText(`${where}: ${detail}`);
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_CLEANING = /[\n\r\v\f\u0085\u2028\u2029\u0000-\u0008\u000e-\u001f\u007f-\u009f]/;

/**
 * One line of plain text, whatever a file's names hold: every kind of line break (\r alone too)
 * folds to a space, and other control characters (a terminal's escape sequences) show as \u escapes.
 */
export function oneLineText(s: string): string {
  if (!NEEDS_CLEANING.test(s)) return s;
  return (
    s
      .replace(/\s*[\n\r\v\f\u0085\u2028\u2029]\s*/g, ' ')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  );
}

/** The plain-data form that crosses worker boundaries and goes into metrics.json `errors`. */
export interface ErrorRecord {
  file: string;
  tensor?: string;
  code: ErrorCode;
  message: string;
}

export function toErrorRecord(err: unknown, file: string, tensor?: string): ErrorRecord {
  if (err instanceof ScanError) return err.toRecord();
  if (isErrorRecord(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const code: ErrorCode = err instanceof Error && err.name === 'AbortError' ? 'ABORTED' : 'ENGINE_FAILED';
  return new ScanError(code, file, tensor, detail).toRecord();
}

export function isErrorRecord(x: unknown): x is ErrorRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.file === 'string' && typeof r.code === 'string' && typeof r.message === 'string';
}

export function abortError(): Error {
  const e = new Error('The scan was cancelled');
  e.name = 'AbortError';
  return e;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}
