import { dataRecord } from '../core/data-record.ts';
import type { ErrorRecord } from '../core/errors.ts';
import type { SpectrumScore } from '../core/metrics/spectrum.ts';
import type { DeltaMetrics, EnergyLevel } from '../core/metrics/weight-delta.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ExpertView } from './moe-lora-view.ts';
import { arrayOf, bool, htsrShape, nullable, num, object, oneOf, recordOf, SchemaError, str, type Check } from './session-schema.ts';
import type { Cell, CheckpointState, PlanStep, ViewState } from './types.ts';

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

const errorRecord = object<ErrorRecord>({ file: str, tensor: str, code: str as Check<ErrorRecord['code']>, message: str }, ['tensor']);

/** one figure per energy level (90/95/99 % of Σσ²) */
const byEnergyLevel = object<Record<EnergyLevel, number>>({ 90: num, 95: num, 99: num });

const cell = nullable(object<Cell>({ layer: num, module: str }));

const storedRecord = object<StoredRecord>(
  {
    name: str,
    file: str,
    layer: nullable(num),
    module: str,
    expert: num,
    spectrumModule: nullable(str),
    spectrumType: nullable(str),
    vector: bool,
    family: nullable(str),
    shape: arrayOf(num),
    rows: num,
    cols: num,
    dtype: str,
    source: arrayOf(str),
    lora: object<{ rank: number; scale: number }>({ rank: num, scale: num }),
    status: oneOf('ok', 'non-finite'),
    nonFinite: num,
    spectrum: nullable(
      object<SpectrumScore>({
        sigma_max: num,
        iqr_sigma: num,
        tau: num,
        n_signal: num,
        signal: num,
        noise: num,
        snr: num,
        snr_legacy: num,
        signal_to_noise: num,
        frobenius: num,
      }),
    ),
    importedValue: num,
    htsr: nullable(htsrShape) as Check<StoredRecord['htsr']>,
    delta: object<DeltaMetrics>({
      unchanged: bool,
      frobenius: num,
      base_frobenius: num,
      relative_norm: nullable(num),
      sigma_max: num,
      stable_rank: num,
      energy_rank: byEnergyLevel,
      truncatable: byEnergyLevel,
      heads: nullable(object<{ axis: 'rows' | 'cols'; shares: number[] }>({ axis: oneOf('rows', 'cols'), shares: arrayOf(num) })),
      reasons: recordOf(str),
    }),
    singularValues: nullable(str),
    engine: oneOf('cpu', 'webgpu'),
    engineNote: str,
    mode: oneOf('exact', 'fast'),
    millis: num,
  },
  ['expert', 'source', 'lora', 'nonFinite', 'importedValue', 'delta', 'engineNote'],
);

const storedCheckpoint = object<StoredCheckpoint>({
  id: str,
  name: str,
  fingerprint: nullable(str),
  origin: oneOf('demo', 'user', 'import', 'session'),
  status: oneOf('opening', 'scanning', 'done', 'cancelled', 'failed'),
  failure: nullable(str),
  records: arrayOf(storedRecord),
  errors: arrayOf(errorRecord),
  skipped: arrayOf(object<{ name: string; reason: string }>({ name: str, reason: str })),
  unmapped: arrayOf(str),
  missing: arrayOf(object<{ name: string; file: string }>({ name: str, file: str })),
  totalJobs: num,
  engine: oneOf('cpu', 'webgpu'),
  fromCache: bool,
});

const viewState = object<ViewState>(
  {
    page: oneOf('checkpoint', 'phases', 'delta'),
    mode: oneOf('selection', 'metric'),
    metric: oneOf('snr', 'signal_to_noise', 'sigma_max', 'frobenius', 'alpha', 'alpha_weighted', 'stable_rank', 'entropy', 'num_spikes'),
    percent: num,
    variant: oneOf('current', 'legacy'),
    activeId: nullable(str),
    selected: cell,
    focused: cell,
    experts: object<ExpertView>({ aggregate: oneOf('mean', 'max', 'one'), expert: num, expandLayer: nullable(num) }),
  },
  ['experts'],
);

const sessionFile = object<SessionFile>({
  format: oneOf(SESSION_FORMAT),
  version: num,
  savedAt: str,
  checkpoints: arrayOf(storedCheckpoint),
  plan: arrayOf(object<PlanStep>({ checkpointId: str, percent: num, included: bool })),
  view: viewState,
});

function decodeSingularValues(text: string, where: string): Float64Array {
  try {
    return base64ToF64(text);
  } catch {
    throw new SessionError(`${where}: not base64 of float64 values`);
  }
}

/**
 * Parse and check a session file, every field (a file that fails names the first wrong field);
 * checkpoints come back as 'session' (their files are not here). Ids must be unique, and the plan
 * and the view may only name checkpoints the file holds.
 */
export function parseSession(text: string, fileName = 'session'): { checkpoints: CheckpointState[]; plan: PlanStep[]; view: ViewState } {
  let data: unknown;
  try {
    data = JSON.parse(text, reviver);
  } catch {
    throw new SessionError(`${fileName}: not a JSON file`);
  }
  const claimed = data as Partial<SessionFile> | null;
  if (claimed?.format !== SESSION_FORMAT) throw new SessionError(`${fileName}: not a Spectral Workbench session`);
  if (typeof claimed.version === 'number' && claimed.version > SESSION_VERSION) {
    throw new SessionError(`${fileName}: made by a newer version (session format ${claimed.version})`);
  }
  let s: SessionFile;
  try {
    s = sessionFile(data, 'session');
  } catch (e) {
    if (e instanceof SchemaError) throw new SessionError(`${fileName}: ${e.message}`);
    throw e;
  }
  const ids = new Set<string>();
  for (const [i, c] of s.checkpoints.entries()) {
    if (ids.has(c.id)) throw new SessionError(`${fileName}: session.checkpoints[${i}].id: "${c.id}" is used twice`);
    ids.add(c.id);
  }
  for (const [i, step] of s.plan.entries()) {
    if (!ids.has(step.checkpointId)) {
      throw new SessionError(`${fileName}: session.plan[${i}].checkpointId: "${step.checkpointId}" is not a checkpoint of the session`);
    }
  }
  const checkpoints = s.checkpoints.map((c, i): CheckpointState => {
    const records = dataRecord<MatrixRecord>();
    for (const [j, r] of c.records.entries()) {
      const where = `${fileName}: session.checkpoints[${i}].records[${j}].singularValues`;
      records[r.name] = { ...r, singularValues: r.singularValues === null ? null : decodeSingularValues(r.singularValues, where) };
    }
    return { ...c, origin: c.origin === 'import' ? 'import' : 'session', progress: null, records };
  });
  const view = {
    ...s.view,
    activeId: s.view.activeId !== null && ids.has(s.view.activeId) ? s.view.activeId : (checkpoints[0]?.id ?? null),
  };
  return { checkpoints, plan: s.plan, view };
}
