import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../test-fixtures/builders/scan-file.ts';
import { base64ToF64, f64ToBase64, parseSession, serializeSession, SessionError } from './session.ts';
import type { CheckpointState, ViewState } from './types.ts';

const view: ViewState = {
  page: 'phases',
  mode: 'metric',
  metric: 'alpha',
  percent: 20,
  variant: 'legacy',
  activeId: 'c1',
  selected: null,
  focused: null,
};

describe('sessions', () => {
  it('keep float64 singular values bit for bit', () => {
    const v = Float64Array.from([Math.PI, 1e-300, 0, -0, 2 ** 52 + 1, Number.MIN_VALUE]);
    expect(Array.from(base64ToF64(f64ToBase64(v)))).toEqual(Array.from(v));
  });

  it('round-trip a scanned checkpoint, the plan and the view', async () => {
    const records = await scanFile(join(import.meta.dirname, '../../test-fixtures/reference/reference-model.safetensors'));
    const c: CheckpointState = {
      id: 'c1',
      name: 'reference-model',
      fingerprint: 'abc',
      origin: 'user',
      status: 'scanning',
      failure: null,
      progress: null,
      records: Object.fromEntries(records),
      errors: [{ file: 'f', tensor: 't', code: 'UNKNOWN_DTYPE', message: 'f: tensor "t": unknown dtype' }],
      skipped: [],
      unmapped: [],
      missing: [],
      totalJobs: records.size,
      engine: 'cpu',
      fromCache: false,
    };
    const back = parseSession(serializeSession([c], [{ checkpointId: 'c1', percent: 20, included: true }], view));
    expect(back.view).toEqual(view);
    expect(back.plan).toEqual([{ checkpointId: 'c1', percent: 20, included: true }]);
    const b = back.checkpoints[0];
    expect(b.origin).toBe('session');
    expect(b.status).toBe('cancelled');
    expect(b.errors).toEqual(c.errors);
    for (const [name, r] of records) {
      const r2 = b.records[name];
      expect(r2.spectrum).toEqual(r.spectrum); // Infinity survives (legacy SNR of a tall matrix)
      expect(r2.htsr).toEqual(r.htsr);
      expect(Array.from(r2.singularValues!)).toEqual(Array.from(r.singularValues!));
    }
    expect(Object.values(b.records).some((r) => r.spectrum?.snr_legacy === Infinity)).toBe(true);
  });

  it('refuse what is not a session, with the file name', () => {
    expect(() => parseSession('{"a":1}', 'x.json')).toThrow(new SessionError('x.json: not a Spectral Workbench session'));
    expect(() => parseSession('{', 'y.json')).toThrow('y.json: not a JSON file');
  });
});

describe('a session file that is wrong in one field', () => {
  /** A valid one-checkpoint session as JSON, edited by `damage` before parsing. */
  function damaged(damage: (file: Record<string, unknown> & { checkpoints: Record<string, unknown>[] }) => void): string {
    const record = {
      name: 'model.layers.0.mlp.up_proj.weight',
      file: 'model.safetensors',
      layer: 0,
      module: 'mlp.up',
      spectrumModule: 'model.layers.0.mlp.up_proj',
      spectrumType: 'mlp.up_proj',
      vector: false,
      family: 'llama',
      shape: [4, 2],
      rows: 4,
      cols: 2,
      dtype: 'F32',
      status: 'ok',
      spectrum: null,
      htsr: null,
      singularValues: f64ToBase64(Float64Array.from([2, 1])),
      engine: 'cpu',
      mode: 'exact',
      millis: 1,
    };
    const checkpoint = {
      id: 'c1',
      name: 'tiny',
      fingerprint: null,
      origin: 'user',
      status: 'done',
      failure: null,
      records: [record],
      errors: [],
      skipped: [],
      unmapped: [],
      missing: [],
      totalJobs: 1,
      engine: 'cpu',
      fromCache: false,
    };
    const file = JSON.parse(serializeSession([], [], view)) as Record<string, unknown> & { checkpoints: Record<string, unknown>[] };
    file.checkpoints = [checkpoint];
    file.plan = [{ checkpointId: 'c1', percent: 25, included: true }];
    file.view = { ...view, activeId: 'c1' };
    damage(file);
    return JSON.stringify(file);
  }
  const firstRecord = (f: { checkpoints: Record<string, unknown>[] }) => (f.checkpoints[0].records as Record<string, unknown>[])[0];

  it('the undamaged file loads', () => {
    const s = parseSession(
      damaged(() => {}),
      's.json',
    );
    expect(Array.from(s.checkpoints[0].records['model.layers.0.mlp.up_proj.weight'].singularValues!)).toEqual([2, 1]);
  });

  it.each<[string, (f: Record<string, unknown> & { checkpoints: Record<string, unknown>[] }) => void, string]>([
    ['the view is null', (f) => (f.view = null), 's.json: session.view: expected an object'],
    [
      'a record has no module',
      (f) => delete firstRecord(f).module,
      's.json: session.checkpoints[0].records[0].module: expected a value (it is missing)',
    ],
    ['records is not a list', (f) => (f.checkpoints[0].records = {}), 's.json: session.checkpoints[0].records: expected a list'],
    ['a layer is text', (f) => (firstRecord(f).layer = '0'), 's.json: session.checkpoints[0].records[0].layer: expected a number'],
    [
      'a status is unknown',
      (f) => (f.checkpoints[0].status = 'running'),
      's.json: session.checkpoints[0].status: expected one of opening, scanning, done, cancelled, failed',
    ],
    [
      'singular values are not base64',
      (f) => (firstRecord(f).singularValues = '@@@'),
      's.json: session.checkpoints[0].records[0].singularValues: not base64 of float64 values',
    ],
    [
      'the plan names a checkpoint the file lacks',
      (f) => (f.plan = [{ checkpointId: 'toString', percent: 25, included: true }]),
      's.json: session.plan[0].checkpointId: "toString" is not a checkpoint of the session',
    ],
    [
      'two checkpoints share an id',
      (f) => f.checkpoints.push({ ...f.checkpoints[0] }),
      's.json: session.checkpoints[1].id: "c1" is used twice',
    ],
    [
      'a spectrum lacks its SNR',
      (f) => (firstRecord(f).spectrum = { sigma_max: 1 }),
      's.json: session.checkpoints[0].records[0].spectrum.iqr_sigma: expected a value (it is missing)',
    ],
  ])('is refused when %s, naming the field', (_what, damage, message) => {
    expect(() => parseSession(damaged(damage), 's.json')).toThrow(new SessionError(message));
  });

  it('an active tab the file does not hold falls back to its first checkpoint; ids that name Object members are data', () => {
    const s = parseSession(
      damaged((f) => {
        f.checkpoints[0].id = 'constructor';
        f.plan = [{ checkpointId: 'constructor', percent: 25, included: true }];
        f.view = { ...view, activeId: '__proto__' };
      }),
    );
    expect(s.view.activeId).toBe('constructor');
    expect(s.checkpoints.map((c) => c.id)).toEqual(['constructor']);
  });
});
