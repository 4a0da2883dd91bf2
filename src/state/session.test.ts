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
