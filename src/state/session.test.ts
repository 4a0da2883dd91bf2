import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanFile } from '../../test-fixtures/builders/scan-file.ts';
import { HTSR_METRIC_KEYS } from '../core/metrics/htsr.ts';
import { deltaMetrics } from '../core/metrics/weight-delta.ts';
import { seededUniform } from '../core/random.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { heatmapGrid, spectrumSelection } from './heatmap-data.ts';
import { base64ToF64, f64ToBase64, parseSession, serializeSession, SessionError, type SessionContents } from './session.ts';
import { EMPTY_DELTA } from './store.ts';
import type { CheckpointState, DeltaState, ViewState } from './types.ts';

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

  it('a session saved before alpha_peak, alpha_farms and mp_rank existed loads, those metrics null with the reason', () => {
    // the heavy-tailed metrics as a session of that time wrote them: every key but the four added since
    const older = Object.fromEntries(
      HTSR_METRIC_KEYS.filter((k) => !['alpha_peak', 'xmin_peak', 'alpha_peak_ratio', 'alpha_farms', 'mp_rank'].includes(k)).map((k) => [
        k,
        1.5,
      ]),
    );
    const s = parseSession(
      damaged((f) => (firstRecord(f).htsr = { ...older, reasons: { entropy: 'kept' } })),
      's.json',
    );
    const htsr = s.checkpoints[0].records['model.layers.0.mlp.up_proj.weight'].htsr!;
    expect(htsr.alpha).toBe(1.5);
    expect(htsr.alpha_peak).toBeNull();
    expect(htsr.mp_rank).toBeNull();
    expect(htsr.reasons.alpha_peak).toMatch(/saved before this metric was added/);
    expect(htsr.reasons.entropy).toBe('kept');
    // a present key that is wrong is still refused
    expect(() =>
      parseSession(
        damaged((f) => (firstRecord(f).htsr = { ...older, alpha: 'x' })),
        's.json',
      ),
    ).toThrow(new SessionError('s.json: session.checkpoints[0].records[0].htsr.alpha: expected a number'));
  });

  it.each<[string, (f: Record<string, unknown> & { checkpoints: Record<string, unknown>[] }) => void, string]>([
    ['the view is null', (f) => (f.view = null), 's.json: session.view: expected an object'],
    [
      'a record has no module',
      (f) => delete firstRecord(f).module,
      's.json: session.checkpoints[0].records[0].module: expected a value (it is missing)',
    ],
    ['records is not a list', (f) => (f.checkpoints[0].records = {}), 's.json: session.checkpoints[0].records: expected a list'],
    [
      'a layer is text',
      (f) => (firstRecord(f).layer = '0'),
      's.json: session.checkpoints[0].records[0].layer: expected a whole number from 0 to 1048576',
    ],
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

const REFERENCE = join(import.meta.dirname, '../../test-fixtures/reference/reference-model.safetensors');

function checkpointOf(id: string, records: readonly MatrixRecord[], status: CheckpointState['status'] = 'done'): CheckpointState {
  return {
    id,
    name: id,
    fingerprint: `fp-${id}`,
    origin: 'user',
    status,
    failure: null,
    progress: null,
    records: Object.fromEntries(records.map((r) => [r.name, r])),
    errors: [],
    skipped: [],
    unmapped: [],
    missing: [],
    totalJobs: records.length,
    engine: 'cpu',
    fromCache: false,
  };
}

/**
 * ΔW records as the workers make them: the record of a matrix with its ΔW metrics. The singular
 * values are a closed form (σ_i = 2^−i, so Σσ² is known), the energies those of a 3 × 2 ΔW.
 */
function deltaRecords(records: readonly MatrixRecord[]): MatrixRecord[] {
  return records.slice(0, 3).map((r, i) => {
    const sv = Float64Array.from([1, 0.5, 0.25].slice(0, i + 1));
    const energy = sv.reduce((a, v) => a + v * v, 0);
    return { ...r, singularValues: sv, delta: deltaMetrics(sv, { energy, baseEnergy: 4 * energy, headEnergy: null }) };
  });
}

describe('sessions carry the ΔW result', () => {
  let scanned: MatrixRecord[] = [];
  beforeAll(async () => {
    scanned = [...(await scanFile(REFERENCE)).values()];
  });

  it('a ΔW result and its pair come back as saved; a ΔW still running is saved as cancelled', () => {
    const [a, b] = [checkpointOf('c1', scanned), checkpointOf('c2', scanned)];
    const records = deltaRecords(scanned);
    const delta: DeltaState = {
      ...EMPTY_DELTA,
      fromId: 'c1',
      toId: null,
      computed: { fromId: 'c1', toId: 'c2' },
      status: 'scanning',
      records: Object.fromEntries(records.map((r) => [r.name, r])),
      totalJobs: 5,
      metric: 'truncatable_95',
      selected: { module: records[0].module, layer: records[0].layer ?? 0 },
    };
    const back = parseSession(serializeSession([a, b], [], view, delta), 's.json');
    expect(back.delta).not.toBeNull();
    const d = back.delta!;
    expect(d.status).toBe('cancelled');
    expect(d.computed).toEqual({ fromId: 'c1', toId: 'c2' });
    expect([d.fromId, d.toId, d.metric, d.totalJobs, d.selected]).toEqual(['c1', null, 'truncatable_95', 5, delta.selected]);
    expect(d.progress).toBeNull();
    expect(Object.keys(d.records)).toEqual(records.map((r) => r.name));
    // σ = 1, ½, ¼: Σσ² = 21/16; the first two keep 20/16, at least 90 and 95% of it (18.9/16, 19.95/16), not 99% (20.79/16)
    const third = d.records[records[2].name];
    expect(Array.from(third.singularValues!)).toEqual([1, 0.5, 0.25]);
    expect(third.delta!.energy_rank).toEqual({ 90: 2, 95: 2, 99: 3 });
    expect(third.delta!.relative_norm).toBe(0.5);
  });

  it('a session without a ΔW result (or made before ΔW travelled with sessions) opens with none', () => {
    const text = serializeSession([checkpointOf('c1', scanned)], [], view, { ...EMPTY_DELTA });
    expect(JSON.parse(text)).not.toHaveProperty('delta'); // nothing computed: nothing saved
    expect(parseSession(text).delta).toBeNull();
  });

  it('a ΔW result naming a checkpoint the file lacks is refused, naming the field', () => {
    const file = JSON.parse(
      serializeSession([checkpointOf('c1', scanned), checkpointOf('c2', scanned)], [], view, {
        ...EMPTY_DELTA,
        computed: { fromId: 'c1', toId: 'c2' },
        status: 'done',
      }),
    ) as { checkpoints: unknown[] };
    file.checkpoints.pop();
    expect(() => parseSession(JSON.stringify(file), 's.json')).toThrow(
      new SessionError('s.json: session.delta.computed.toId: "c2" is not a checkpoint of the session'),
    );
  });

  it('records named after Object members (__proto__, constructor) are data, in checkpoints and in ΔW', () => {
    const names = ['__proto__', 'constructor', 'toString'];
    const odd = scanned.slice(0, 3).map((r, i) => ({ ...r, name: names[i] }));
    const delta: DeltaState = { ...EMPTY_DELTA, computed: { fromId: 'c1', toId: 'c1' }, records: Object.fromEntries([]), status: 'done' };
    // built by hand: an object literal's "__proto__" key would set the prototype instead of a record
    for (const r of deltaRecords(odd)) Object.defineProperty(delta.records, r.name, { value: r, enumerable: true });
    const c = checkpointOf('c1', []);
    for (const r of odd) Object.defineProperty(c.records, r.name, { value: r, enumerable: true });
    const back = parseSession(serializeSession([c], [], view, delta));
    expect(Object.keys(back.checkpoints[0].records)).toEqual(names);
    expect(Object.keys(back.delta!.records)).toEqual(names);
    expect(back.checkpoints[0].records.__proto__.module).toBe(odd[0].module);
    expect(Object.getPrototypeOf(back.checkpoints[0].records)).toBeNull();
  });
});

describe('session files damaged at random (seeded)', () => {
  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
  type Path = (string | number)[];
  let base: Json = null;
  beforeAll(async () => {
    const scanned = [...(await scanFile(REFERENCE)).values()].slice(0, 4);
    const delta: DeltaState = {
      ...EMPTY_DELTA,
      computed: { fromId: 'c1', toId: 'c2' },
      status: 'done',
      records: Object.fromEntries(deltaRecords(scanned).map((r) => [r.name, r])),
    };
    const plan = [
      { checkpointId: 'c1', percent: 25, included: true },
      { checkpointId: 'c2', percent: 20, included: false },
    ];
    const experts = { aggregate: 'max', expert: 0, expandLayer: null } as const;
    const c2 = {
      ...checkpointOf('c2', scanned),
      errors: [{ file: 'f', tensor: 't', code: 'UNKNOWN_DTYPE', message: 'bad' }],
    } as CheckpointState;
    base = JSON.parse(serializeSession([checkpointOf('c1', scanned, 'scanning'), c2], plan, { ...view, experts }, delta)) as Json;
  });

  /** Every path in the document (the root excluded), in document order. */
  function paths(doc: Json, at: Path = []): Path[] {
    if (doc === null || typeof doc !== 'object') return [];
    const keys: (string | number)[] = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
    return keys.flatMap((k) => [[...at, k], ...paths((doc as Record<string | number, Json>)[k], [...at, k])]);
  }

  /** a string put where the deep value goes, replaced in the text (the document itself stays shallow) */
  const MARKER = '@@deep@@';
  const DEEP = JSON.stringify(MARKER);
  const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  /** One damage at `path`: a wrong type, a missing field, an Object member's name, or a value nested very deep. */
  function damage(doc: Json, path: Path, random: () => number): string {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const parent = path.slice(0, -1).reduce<Json>((node, k) => (node as Record<string | number, Json>)[k], doc) as
      Record<string, Json> | Json[];
    const key = path[path.length - 1];
    const kind = pick([
      'null',
      'number',
      'string',
      'array',
      'object',
      'bool',
      'missing',
      'proto-value',
      'proto-key',
      'deep',
      'huge-number',
    ]);
    const set = (v: Json) => ((parent as Record<string | number, Json>)[key] = v);
    switch (kind) {
      case 'null':
        set(null);
        break;
      case 'number':
        set(pick([0, -1, 1e308, 0.5, 42]));
        break;
      case 'string':
        set(pick(['', 'x', '0', 'null', 'AAAA', 'NaN']));
        break;
      case 'array':
        set(pick([[], [1], [null], [{}], ['c1']]));
        break;
      case 'object':
        set(pick<Json>([{}, { a: 1 }, { $number: 'NaN' }, { $number: {} }]));
        break;
      case 'bool':
        set(random() < 0.5);
        break;
      case 'missing':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 'proto-value':
        set(pick(PROTO_KEYS));
        break;
      case 'proto-key':
        // an own key named after an Object member beside (or in place of) this one
        if (!Array.isArray(parent)) Object.defineProperty(parent, pick(PROTO_KEYS), { value: parent[key], enumerable: true });
        else set(pick(PROTO_KEYS));
        break;
      case 'deep':
        set(MARKER);
        break;
      case 'huge-number':
        set({ $number: pick(['Infinity', '-Infinity', '1e999']) });
        break;
    }
    const depth = 2000 + Math.floor(random() * 50_000);
    const nest = random() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    return JSON.stringify(doc).replaceAll(DEEP, nest);
  }

  /** What the page does with an opened session: it must not throw on whatever parseSession let through. */
  function use(s: SessionContents): void {
    for (const c of s.checkpoints) {
      const records = Object.values(c.records);
      heatmapGrid(records, c.errors);
      spectrumSelection(records, s.view.percent, s.view.variant);
      for (const r of records) expect(r.singularValues === null || r.singularValues instanceof Float64Array).toBe(true);
    }
    if (s.delta) heatmapGrid(Object.values(s.delta.records), s.delta.errors);
    expect(s.view.activeId === null || s.checkpoints.some((c) => c.id === s.view.activeId)).toBe(true);
  }

  /** The session, or the SessionError that refused it; anything else thrown (a TypeError) fails the test. */
  function openOrRefusal(text: string): SessionContents | SessionError {
    try {
      return parseSession(text, 's.json');
    } catch (e) {
      if (e instanceof SessionError) return e;
      throw e;
    }
  }

  const FIXED = /^s\.json: (not a JSON file|not a Spectral Workbench session|made by a newer version \(session format .+\))$/;
  const FIELD = /^s\.json: session(\.[^\s.[:]+|\[\d+\])*: ./;

  it('either opens a workspace the page can show, or throws a SessionError naming the field: never a TypeError', () => {
    const random = seededUniform(20261130);
    const all = paths(base);
    const outcomes = { opened: 0, refused: 0 };
    for (let round = 0; round < 600; round++) {
      const doc = structuredClone(base);
      const text = Array.from({ length: 1 + Math.floor(random() * 3) }).reduce<string>(() => {
        const candidates = paths(doc);
        return damage(doc, candidates[Math.floor(random() * candidates.length)] ?? all[0], random);
      }, '');
      const opened = openOrRefusal(text);
      if (opened instanceof SessionError) {
        if (!FIXED.test(opened.message) && !FIELD.test(opened.message))
          throw new Error(`round ${round}: "${opened.message}" names no field`);
        outcomes.refused++;
      } else {
        use(opened);
        outcomes.opened++;
      }
    }
    // both outcomes are exercised: damage to optional or pass-through fields opens, the rest is refused
    expect(outcomes.refused).toBeGreaterThan(300);
    expect(outcomes.opened).toBeGreaterThan(20);
  });

  it('a value nested tens of thousands deep where a field belongs is refused naming that field', () => {
    const doc = structuredClone(base) as { view: { metric: Json } };
    doc.view.metric = MARKER;
    const text = JSON.stringify(doc).replace(DEEP, '['.repeat(100_000) + ']'.repeat(100_000));
    expect(() => parseSession(text, 's.json')).toThrow(SessionError);
    expect(() => parseSession(text, 's.json')).toThrow(/^s\.json: (session\.view\.metric: expected one of|not a JSON file)/);
  });
});
