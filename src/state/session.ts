import { dataRecord } from '../core/data-record.ts';
import type { ErrorRecord } from '../core/errors.ts';
import type { SpectrumScore } from '../core/metrics/spectrum.ts';
import type { DeltaMetrics, EnergyLevel } from '../core/metrics/weight-delta.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { METRICS } from './heatmap-data.ts';
import type { ExpertView } from './moe-lora-view.ts';
import { arrayOf, bool, htsrShape, nullable, num, object, oneOf, recordOf, SchemaError, str, whole, type Check } from './session-schema.ts';
import type { Cell, CheckpointState, DeltaState, PlanStep, ViewState } from './types.ts';

/**
 * A session: the phase plan, every checkpoint's results, the view and the last ΔW result, as one
 * JSON file (and in IndexedDB). Singular values travel as base64 of their float64 bytes: exact and a
 * third the size of decimal text.
 */
export const SESSION_FORMAT = 'spectral-workbench-session';
export const SESSION_VERSION = 1;

type StoredRecord = Omit<MatrixRecord, 'singularValues'> & { singularValues: string | null };
type StoredCheckpoint = Omit<CheckpointState, 'records' | 'progress'> & { records: StoredRecord[] };
type StoredDelta = Omit<DeltaState, 'records' | 'progress'> & { records: StoredRecord[] };

export interface SessionFile {
  format: typeof SESSION_FORMAT;
  version: number;
  savedAt: string;
  checkpoints: StoredCheckpoint[];
  plan: PlanStep[];
  view: ViewState;
  /** the ΔW page (absent in files made before ΔW travelled with sessions) */
  delta?: StoredDelta;
}

/** What a session holds, and what opening one puts in the store. */
export interface SessionContents {
  checkpoints: CheckpointState[];
  plan: PlanStep[];
  view: ViewState;
  /** null: the file has no ΔW result */
  delta: DeltaState | null;
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

/** Records are immutable once made: each is encoded once, however often the workspace is saved. */
const encoded = new WeakMap<MatrixRecord, StoredRecord>();

function storedRecord(r: MatrixRecord): StoredRecord {
  let stored = encoded.get(r);
  if (!stored) {
    stored = { ...r, singularValues: r.singularValues ? f64ToBase64(r.singularValues) : null };
    encoded.set(r, stored);
  }
  return stored;
}

/**
 * The session file's text. `delta`: the ΔW page, saved when it holds a result (or a pair being
 * computed); `withoutRecords`: checkpoints saved without their records (the page's own saved
 * workspace, whose scanned checkpoints' records are in the scan cache already).
 */
export function serializeSession(
  checkpoints: readonly CheckpointState[],
  plan: readonly PlanStep[],
  view: ViewState,
  delta: DeltaState | null = null,
  withoutRecords: ReadonlySet<string> = new Set(),
): string {
  // a scan cut off mid-way is saved as cancelled: its matrices are kept, it is not running any more
  const settled = <S extends string>(status: S) =>
    status === 'scanning' || status === 'opening' || status === 'queued' ? 'cancelled' : status;
  const storedDelta = ({ records, progress: _p, ...rest }: DeltaState): StoredDelta => ({
    ...rest,
    status: settled(rest.status),
    records: Object.values(records).map(storedRecord),
  });
  const file: SessionFile = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    savedAt: new Date().toISOString(),
    checkpoints: checkpoints.map(({ records, progress: _p, ...rest }) => ({
      ...rest,
      status: settled(rest.status),
      records: withoutRecords.has(rest.id) ? [] : Object.values(records).map(storedRecord),
    })),
    plan: [...plan],
    view,
    ...(delta?.computed ? { delta: storedDelta(delta) } : {}),
  };
  return JSON.stringify(file, replacer);
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
}

const errorRecord = object<ErrorRecord>({ file: str, tensor: str, code: str as Check<ErrorRecord['code']>, message: str }, ['tensor']);

/** one figure per energy level (90/95/99 % of Σσ²) */
const byEnergyLevel = object<Record<EnergyLevel, number>>({ 90: num, 95: num, 99: num });

/** Layer and expert numbers: far more than any model has, few enough for a grid of that many columns. */
const MAX_INDEX = 1 << 20;
const index = whole(MAX_INDEX);

const cell = nullable(object<Cell>({ layer: index, module: str }));

const recordShape = object<StoredRecord>(
  {
    name: str,
    file: str,
    layer: nullable(index),
    module: str,
    expert: index,
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
    estimate: object<{ lo: number; hi: number }>({ lo: num, hi: num }),
    millis: num,
  },
  ['expert', 'source', 'lora', 'nonFinite', 'importedValue', 'delta', 'engineNote', 'estimate'],
);

const skippedShape = object<{ name: string; reason: string }>({ name: str, reason: str });

const storedCheckpoint = object<StoredCheckpoint>({
  id: str,
  name: str,
  fingerprint: nullable(str),
  origin: oneOf('demo', 'user', 'import', 'session'),
  status: oneOf('opening', 'scanning', 'done', 'cancelled', 'failed'),
  failure: nullable(str),
  records: arrayOf(recordShape),
  errors: arrayOf(errorRecord),
  skipped: arrayOf(skippedShape),
  unmapped: arrayOf(str),
  missing: arrayOf(object<{ name: string; file: string }>({ name: str, file: str })),
  totalJobs: num,
  engine: oneOf('cpu', 'webgpu'),
  fromCache: bool,
});

const viewState = object<ViewState>(
  {
    page: oneOf('checkpoint', 'phases', 'delta', 'run'),
    mode: oneOf('selection', 'metric'),
    metric: oneOf(...METRICS.map((m) => m.id)),
    percent: num,
    variant: oneOf('current', 'legacy'),
    activeId: nullable(str),
    selected: cell,
    focused: cell,
    experts: object<ExpertView>({ aggregate: oneOf('mean', 'max', 'one'), expert: index, expandLayer: nullable(index) }),
  },
  ['experts'],
);

const deltaShape = object<StoredDelta>({
  fromId: nullable(str),
  toId: nullable(str),
  computed: nullable(object<{ fromId: string; toId: string }>({ fromId: str, toId: str })),
  status: oneOf('idle', 'queued', 'scanning', 'done', 'cancelled', 'failed'),
  failure: nullable(str),
  records: arrayOf(recordShape),
  errors: arrayOf(errorRecord),
  skipped: arrayOf(skippedShape),
  totalJobs: num,
  metric: oneOf('relative_norm', 'stable_rank', 'truncatable_90', 'truncatable_95', 'truncatable_99', 'head_max'),
  selected: cell,
  focused: cell,
});

const sessionFile = object<SessionFile>(
  {
    format: oneOf(SESSION_FORMAT),
    version: num,
    savedAt: str,
    checkpoints: arrayOf(storedCheckpoint),
    plan: arrayOf(object<PlanStep>({ checkpointId: str, percent: num, included: bool })),
    view: viewState,
    delta: deltaShape,
  },
  ['delta'],
);

function decodeSingularValues(text: string, where: string): Float64Array {
  try {
    return base64ToF64(text);
  } catch {
    throw new SessionError(`${where}: not base64 of float64 values`);
  }
}

/** Records by name (a prototype-free record: names are data), their singular values decoded. */
function decodeRecords(stored: readonly StoredRecord[], where: string): Record<string, MatrixRecord> {
  const records = dataRecord<MatrixRecord>();
  for (const [j, r] of stored.entries()) {
    records[r.name] = {
      ...r,
      singularValues: r.singularValues === null ? null : decodeSingularValues(r.singularValues, `${where}[${j}].singularValues`),
    };
  }
  return records;
}

/**
 * Parse and check a session file, every field (a file that fails names the first wrong field);
 * checkpoints come back as 'session' (their files are not here). Ids must be unique, and the plan
 * and the view may only name checkpoints the file holds.
 */
export function parseSession(text: string, fileName = 'session'): SessionContents {
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
  if (s.delta) {
    const d = s.delta;
    for (const [field, id] of [
      ['fromId', d.fromId],
      ['toId', d.toId],
      ['computed.fromId', d.computed?.fromId ?? null],
      ['computed.toId', d.computed?.toId ?? null],
    ]) {
      if (id !== null && !ids.has(id))
        throw new SessionError(`${fileName}: session.delta.${field}: "${id}" is not a checkpoint of the session`);
    }
  }
  const checkpoints = s.checkpoints.map((c, i): CheckpointState => ({
    ...c,
    origin: c.origin === 'import' ? 'import' : 'session',
    progress: null,
    records: decodeRecords(c.records, `${fileName}: session.checkpoints[${i}].records`),
  }));
  const view = {
    ...s.view,
    activeId: s.view.activeId !== null && ids.has(s.view.activeId) ? s.view.activeId : (checkpoints[0]?.id ?? null),
  };
  const delta: DeltaState | null = s.delta
    ? { ...s.delta, progress: null, records: decodeRecords(s.delta.records, `${fileName}: session.delta.records`) }
    : null;
  return { checkpoints, plan: s.plan, view, delta };
}
