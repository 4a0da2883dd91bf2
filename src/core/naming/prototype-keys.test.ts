import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { buildGguf } from '../../../test-fixtures/builders/gguf.ts';
import { joinSafetensors, tensorBytes, type FixtureTensor } from '../../../test-fixtures/builders/safetensors.ts';
import { scanFile } from '../../../test-fixtures/builders/scan-file.ts';
import { dataRecord, ownValue } from '../data-record.ts';
import { spectrumEntries, writeSpectrumJson, writeSpectrumSortedJson, writeSpectrumYaml } from '../exports/spectrum-files.ts';
import { memorySource } from '../formats/byte-source.ts';
import { openCheckpoint } from '../formats/checkpoint.ts';
import { readGgufHeader } from '../formats/gguf.ts';
import { readSafetensorsHeader } from '../formats/safetensors.ts';
import { headLayout } from '../metrics/weight-delta.ts';
import { planScan } from '../scan/plan.ts';
import { spectrumModules } from '../scan/result.ts';
import { selectTopPercent } from '../selection/select.ts';
import { matchName } from './map-tensor.ts';

// Names from a file that are also members of every JavaScript object: as keys of lookup tables they
// must be data like any other name, never Object.prototype's members.
const KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

interface Expected {
  name: string;
  family: string | null;
  layer: number | null;
  module: string;
  expert?: number;
  spectrumModule: string;
}

/** Where each key sits in a name, and what the name must map to (written out, not computed by the code under test). */
const expectations = (k: string): Expected[] => [
  // llama.cpp's block naming: no rule knows the key, so Spectrum's generic view (unmapped)
  { name: `blk.0.${k}.weight`, family: null, layer: 0, module: k, spectrumModule: `blk.0.${k}` },
  {
    name: `model.layers.1.mlp.experts.2.${k}.weight`,
    family: 'moe',
    layer: 1,
    module: `mlp.experts.${k}`,
    expert: 2,
    spectrumModule: `model.layers.1.mlp.experts.2.${k}`,
  },
  {
    name: `model.layers.3.self_attn.${k}.weight`,
    family: 'llama',
    layer: 3,
    module: `self_attn.${k}`,
    spectrumModule: `model.layers.3.self_attn.${k}`,
  },
  { name: `h.4.${k}.weight`, family: null, layer: 4, module: k, spectrumModule: `h.4.${k}` },
  { name: `${k}.weight`, family: null, layer: null, module: k, spectrumModule: k },
];
const ALL = KEYS.flatMap(expectations);

/** A 4 × 3 matrix whose singular values are (s, 1, 0.5): σ_max = s and ‖W‖_F = √(s² + 1.25) in closed form. */
function diagonal(name: string, s: number): FixtureTensor {
  const values = new Float32Array(12);
  values[0] = s;
  values[4] = 1;
  values[8] = 0.5;
  return { name, dtype: 'F32', shape: [4, 3], values };
}

/**
 * A safetensors file written key by key, so that `__proto__` is a key of the header like any other
 * (an object literal would take it as the prototype).
 */
function safetensorsWithRawKeys(tensors: FixtureTensor[], metadata: [string, string][]): Uint8Array {
  const entries: string[] = [`"__metadata__":{${metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = tensorBytes(t);
    entries.push(
      `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] })}`,
    );
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return joinSafetensors(`{${entries.join(',')}}`, data);
}

const sigmaOf = (i: number) => 2 + i;
const TENSORS = [
  ...ALL.map((e, i) => diagonal(e.name, sigmaOf(i))),
  // not weights: skipped, by their own names
  ...KEYS.map((k) => diagonal(k, 1)),
];
const METADATA = KEYS.map((k): [string, string] => [k, `value of ${k}`]);
const file = safetensorsWithRawKeys(TENSORS, METADATA);

describe('names that are members of Object.prototype', () => {
  it.each(ALL.map((e) => [e.name, e]))('%s maps to its own module and layer', (name, e) => {
    const { family, match } = matchName(name);
    expect(family).toBe(e.family);
    expect(match.layer).toBe(e.layer);
    expect(match.module).toBe(e.module);
    expect(match.expert).toBe(e.expert);
    expect(match.spectrumName).toBeUndefined();
  });

  it('are found in a record only when it holds them itself', () => {
    const parsed = JSON.parse('{"__proto__": 1, "model.layers.0.mlp.down_proj": 2}') as Record<string, number>;
    expect(KEYS.map((k) => ownValue(parsed, k))).toEqual(KEYS.map((k) => (k === '__proto__' ? 1 : undefined)));
    const record = dataRecord<number>();
    KEYS.forEach((k, i) => (record[k] = i));
    expect(Object.entries(record)).toEqual(KEYS.map((k, i) => [k, i]));
    expect(KEYS.map((k) => ownValue(record, k))).toEqual(KEYS.map((_, i) => i));
  });

  it('are no attention heads', () => {
    for (const k of KEYS) expect(headLayout(k, 4, 4, { num_attention_heads: 2 })).toBeNull();
  });

  it('are read from a safetensors header as tensors and metadata keys like any other', async () => {
    const h = await readSafetensorsHeader(memorySource('keys.safetensors', file));
    expect(h.errors).toEqual([]);
    expect(h.tensors.map((t) => t.name)).toEqual(TENSORS.map((t) => t.name));
    expect(Object.entries(h.metadata)).toEqual(METADATA);
    const ckpt = await openCheckpoint([memorySource('keys.safetensors', file)]);
    expect(Object.entries(ckpt.metadata)).toEqual(METADATA);
    expect(ckpt.tensors).toHaveLength(TENSORS.length);
  });

  it('are read from a GGUF as tensors and metadata keys like any other', async () => {
    const metadata = Object.fromEntries(METADATA.map(([k, v]) => [k, { type: 'string' as const, value: v }]));
    const gguf = buildGguf(
      KEYS.map((k, i) => ({ name: `blk.${i}.${k}.weight`, type: 'F32', shape: [4, 3], values: diagonal('', 2).values })),
      metadata,
    );
    const h = await readGgufHeader(memorySource('keys.gguf', gguf));
    expect(h.errors).toEqual([]);
    expect(Object.entries(h.metadata)).toEqual(METADATA);
    const plan = planScan(await openCheckpoint([memorySource('keys.gguf', gguf)]));
    expect(plan.jobs.map((j) => [j.name, j.layer, j.module, j.spectrumModule])).toEqual(
      KEYS.map((k, i) => [`blk.${i}.${k}.weight`, i, k, `blk.${i}.${k}`]),
    );
    expect(plan.unmapped).toEqual(KEYS.map((k, i) => `blk.${i}.${k}.weight`));
  });

  it('are planned one job per tensor, unmapped where no rule knows them, and skipped by their own names', async () => {
    const plan = planScan(await openCheckpoint([memorySource('keys.safetensors', file)]));
    const byName = new Map(plan.jobs.map((j) => [j.name, j]));
    expect(plan.jobs).toHaveLength(ALL.length);
    for (const e of ALL) {
      const j = byName.get(e.name);
      expect(j, e.name).toBeDefined();
      expect([j!.family, j!.layer, j!.module, j!.expert, j!.spectrumModule], e.name).toEqual([
        e.family,
        e.layer,
        e.module,
        e.expert,
        e.spectrumModule,
      ]);
    }
    expect(new Set(plan.jobs.map((j) => j.spectrumModule)).size).toBe(ALL.length);
    expect([...plan.unmapped].sort()).toEqual(
      ALL.filter((e) => e.family === null)
        .map((e) => e.name)
        .sort(),
    );
    expect(plan.skipped).toEqual(KEYS.map((k) => ({ name: k, reason: 'not a weight' })));
  });

  it('are analysed each from its own bytes and exported under their own names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-keys-'));
    writeFileSync(join(dir, 'keys.safetensors'), file);
    const records = await scanFile(join(dir, 'keys.safetensors'));
    expect(records.size).toBe(ALL.length);
    ALL.forEach((e, i) => {
      const r = records.get(e.name);
      expect(r, e.name).toBeDefined();
      expect(r!.module).toBe(e.module);
      expect(r!.spectrum!.sigma_max).toBeCloseTo(sigmaOf(i), 5);
      expect(r!.spectrum!.frobenius).toBeCloseTo(Math.sqrt(sigmaOf(i) ** 2 + 1.25), 5);
    });
    const entries = spectrumEntries(spectrumModules([...records.values()], 'current'));
    const spectrumNames = ALL.map((e) => e.spectrumModule).sort();
    // JSON.parse keeps "__proto__" as a key of its own: the file holds every module once
    expect(Object.keys(JSON.parse(writeSpectrumJson(entries)) as object).sort()).toEqual(spectrumNames);
    const sorted = JSON.parse(writeSpectrumSortedJson(entries)) as Record<string, Record<string, number>>;
    expect(
      Object.values(sorted)
        .flatMap((t) => Object.keys(t))
        .sort(),
    ).toEqual(spectrumNames);
    expect(Object.keys(sorted).sort()).toEqual([...new Set(entries.map((e) => e.type))].sort());
    const yaml = parseDocument(writeSpectrumYaml(selectTopPercent(entries, 100))).toJS() as { unfrozen_parameters: string[] };
    expect(yaml.unfrozen_parameters.slice(2).sort()).toEqual(spectrumNames);
  });
});
