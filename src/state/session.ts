import type { MatrixRecord } from '../core/scan/record.ts';
import type { CheckpointState, PlanStep, ViewState } from './types.ts';

/**
 * A session: the phase plan, every checkpoint's results and the view, as one JSON file (and in
 * IndexedDB). Singular values travel as base64 of their float64 bytes: exact and a third the size
 * of decimal text.
 */
export const SESSION_FORMAT = 'spectral-workbench-session';
export const SESSION_VERSION = 1;

type StoredRecord = Omit<MatrixRecord, 'singularValues'> & { singularValues: string | null };
type StoredCheckpoint = Omit<CheckpointState, 'records' | 'progress'> & { records: StoredRecord[] };

export interface SessionFile {
  format: typeof SESSION_FORMAT;
  version: number;
  savedAt: string;
  checkpoints: StoredCheckpoint[];
  plan: PlanStep[];
  view: ViewState;
}

export function f64ToBase64(values: Float64Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function base64ToF64(text: string): Float64Array {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float64Array(bytes.buffer);
}

/** JSON has no Infinity or NaN: Spectrum's legacy value can be Infinity, so such numbers become strings. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && '$number' in value) return Number((value as { $number: string }).$number);
  return value;
}

export function serializeSession(checkpoints: readonly CheckpointState[], plan: readonly PlanStep[], view: ViewState): string {
  const file: SessionFile = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    savedAt: new Date().toISOString(),
    checkpoints: checkpoints.map(({ records, progress: _p, ...rest }) => ({
      ...rest,
      // a scan cut off mid-way is saved as cancelled: its matrices are kept, it is not running any more
      status: rest.status === 'scanning' || rest.status === 'opening' ? 'cancelled' : rest.status,
      records: Object.values(records).map((r) => ({ ...r, singularValues: r.singularValues ? f64ToBase64(r.singularValues) : null })),
    })),
    plan: [...plan],
    view,
  };
  return JSON.stringify(file, replacer);
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
}

/** Parse and check a session file; checkpoints come back as 'session' (their files are not here). */
export function parseSession(text: string, fileName = 'session'): { checkpoints: CheckpointState[]; plan: PlanStep[]; view: ViewState } {
  let data: unknown;
  try {
    data = JSON.parse(text, reviver);
  } catch {
    throw new SessionError(`${fileName}: not a JSON file`);
  }
  const s = data as Partial<SessionFile>;
  if (s.format !== SESSION_FORMAT || !Array.isArray(s.checkpoints) || !Array.isArray(s.plan) || typeof s.view !== 'object') {
    throw new SessionError(`${fileName}: not a Spectral Workbench session`);
  }
  if ((s.version ?? 0) > SESSION_VERSION) throw new SessionError(`${fileName}: made by a newer version (session format ${s.version})`);
  const checkpoints = s.checkpoints.map((c): CheckpointState => ({
    ...c,
    origin: c.origin === 'import' ? 'import' : 'session',
    progress: null,
    records: Object.fromEntries(
      c.records.map((r) => [r.name, { ...r, singularValues: r.singularValues ? base64ToF64(r.singularValues) : null }]),
    ),
  }));
  return { checkpoints, plan: s.plan, view: s.view as ViewState };
}
