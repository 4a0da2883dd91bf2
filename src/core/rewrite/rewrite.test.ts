import { describe, expect, it } from 'vitest';
import { memorySource } from '../formats/byte-source.ts';
import { openCheckpoint, type Checkpoint } from '../formats/checkpoint.ts';
import { readSafetensorsHeader } from '../formats/safetensors.ts';
import { readTensorAsF32 } from '../formats/read-tensor.ts';
import { findLoraPairs } from '../scan/plan-lora.ts';
import { topSingularTripletsCpu } from '../../engine/low-rank/randomized-svd.ts';
import { plantedPair, plantedUpdate, type PlantedPair } from '../../../test-fixtures/builders/planted.ts';
import { floatToBf16, floatToHalf } from '../../../test-fixtures/builders/encode.ts';
import { shardSafetensors } from '../../../test-fixtures/builders/shard.ts';
import { gaussianMatrix } from '../../../test-fixtures/builders/safetensors.ts';
import { ScanError } from '../errors.ts';
import { NOTE_KEY } from './checkpoint-writer.ts';
import { encodeFloat64, float64ToBf16, float64ToHalf } from './encode.ts';
import { extractLora } from './extract-lora.ts';
import { pairCheckpoints, readFloat64, type CheckpointPair } from './pair.ts';
import { chooseHeads, headScores, parseHeadsFile, rewind, HEADS_FORMAT } from './rewind.ts';
import { memoryOutput, type OutputFolder } from './sink.ts';
import { truncateUpdate } from './truncate.ts';

const open = (files: ReadonlyMap<string, Uint8Array>, name?: string) =>
  openCheckpoint(
    [...files].map(([n, b]) => memorySource(n, b)),
    name,
  );

async function pairOf(p: PlantedPair, only?: RegExp): Promise<CheckpointPair> {
  return pairCheckpoints(await open(p.base, 'base'), await open(p.ft, 'ft'), only ? { only } : {});
}

function frob(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** scale · B·A in float64 (out × in). */
function product(b: Float32Array, a: Float32Array, out: number, r: number, cols: number, scale: number): Float64Array {
  const m = new Float64Array(out * cols);
  for (let i = 0; i < out; i++)
    for (let k = 0; k < r; k++) for (let j = 0; j < cols; j++) m[i * cols + j] += scale * b[i * r + k] * a[k * cols + j];
  return m;
}

function transposed(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

const LLAMA = { model_type: 'llama', hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2 };
const Q = 'model.layers.0.self_attn.q_proj.weight';
const K = 'model.layers.0.self_attn.k_proj.weight';
const O = 'model.layers.0.self_attn.o_proj.weight';
const UP = 'model.layers.0.mlp.up_proj.weight';

describe('extract-lora', () => {
  const sigma = [4, 3, 2, 1];
  const planted = () =>
    plantedPair(
      [
        { name: Q, rows: 16, cols: 16, sigma },
        { name: UP, rows: 40, cols: 16, sigma: [5, 2] },
        { name: 'model.layers.0.mlp.down_proj.weight', rows: 16, cols: 40 },
      ],
      { config: LLAMA, norms: [{ name: 'model.layers.0.input_layernorm.weight', n: 16 }] },
    );

  it('recovers a planted rank-r ΔW at rank r to the rounding of the f32 factors', async () => {
    const pair = await pairOf(planted());
    const out = memoryOutput();
    const report = await extractLora(pair, topSingularTripletsCpu, out, { target: { rank: 4 } });
    const q = report.modules.find((m) => m.module === 'model.layers.0.self_attn.q_proj')!;
    expect(q.rank).toBe(4);
    expect(q.relative_error).toBeLessThan(1e-6);
    expect(q.kept_energy).toBeCloseTo(1, 12);
    expect(report.unchanged).toEqual(['model.layers.0.mlp.down_proj.weight']);
    expect(report.not_adapted).toEqual(['model.layers.0.input_layernorm.weight']);
  });

  it('at a lower rank leaves exactly the Eckart–Young error √(Σ_{i>k} σ_i²)', async () => {
    const pair = await pairOf(planted());
    for (const k of [1, 2, 3]) {
      const report = await extractLora(pair, topSingularTripletsCpu, memoryOutput(), { target: { rank: k } });
      const q = report.modules.find((m) => m.module === 'model.layers.0.self_attn.q_proj')!;
      const tail = Math.sqrt(sigma.slice(k).reduce((s, x) => s + x * x, 0));
      const total = Math.sqrt(sigma.reduce((s, x) => s + x * x, 0));
      expect(Math.abs(q.relative_error * total - tail) / tail).toBeLessThan(1e-3);
      expect(q.kept_energy).toBeCloseTo(1 - (tail * tail) / (total * total), 10);
    }
  });

  it('writes a PEFT adapter that our LoRA reader opens as B·A = ΔW, with rank_pattern where ranks differ', async () => {
    const p = planted();
    const pair = await pairOf(p);
    const out = memoryOutput();
    // 95 % of the energy: q_proj (16, 9, 4, 1 of 30) needs 3 triplets, up_proj (25, 4 of 29) needs 2
    const report = await extractLora(pair, topSingularTripletsCpu, out, { target: { energy: 0.95 } });
    await out.commit();
    expect(report.modules.map((m) => [m.module, m.rank])).toEqual([
      ['model.layers.0.self_attn.q_proj', 3],
      ['model.layers.0.mlp.up_proj', 2],
    ]);
    const config = JSON.parse(new TextDecoder().decode(out.files.get('adapter_config.json'))) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'LORA', r: 3, lora_alpha: 3, fan_in_fan_out: false, target_modules: ['q_proj', 'up_proj'] });
    expect(config.rank_pattern).toEqual({ 'model.layers.0.mlp.up_proj': 2 });
    expect(config.alpha_pattern).toEqual({ 'model.layers.0.mlp.up_proj': 2 });
    const adapter = await open(new Map([...out.files]));
    const lora = findLoraPairs(adapter.tensors, adapter.adapterConfig);
    expect(lora.pairs.map((x) => [x.module, x.rank, x.scale])).toEqual([
      ['base_model.model.model.layers.0.self_attn.q_proj', 3, 1],
      ['base_model.model.model.layers.0.mlp.up_proj', 2, 1],
    ]);
    for (const x of lora.pairs) {
      const src = adapter.sources.get(x.a.file)!;
      const [a, b] = [await readTensorAsF32(src, x.a), await readTensorAsF32(src, x.b)];
      const [rows, cols] = [x.b.shape[0], x.a.shape[1]];
      const ba = product(b, a, rows, x.rank, cols, x.scale);
      // the truncation of the closed-form ΔW to that rank
      const expected = x.baseName === Q ? plantedUpdate(16, 16, sigma, 3) : p.deltas.get(UP)!;
      expect(frob(ba.map((v, i) => v - expected[i])) / frob(expected)).toBeLessThan(1e-6);
    }
    const header = await readSafetensorsHeader(memorySource('a', out.files.get('adapter_model.safetensors')!));
    expect(header.metadata.format).toBe('pt');
    expect(header.tensors.every((t) => t.dtype === 'F32')).toBe(true);
  });

  it('names whole module paths in target_modules when --only leaves out weights of the same last name', async () => {
    const q1 = 'model.layers.1.self_attn.q_proj.weight';
    const p = plantedPair(
      [
        { name: Q, rows: 16, cols: 16, sigma: [1] },
        { name: q1, rows: 16, cols: 16, sigma: [1] },
      ],
      { config: LLAMA },
    );
    for (const [only, expected] of [
      [/layers\.0\./, ['model.layers.0.self_attn.q_proj']],
      [/q_proj/, ['q_proj']],
    ] as const) {
      const out = memoryOutput();
      await extractLora(await pairOf(p, only), topSingularTripletsCpu, out, { target: { rank: 1 } });
      await out.commit();
      const config = JSON.parse(new TextDecoder().decode(out.files.get('adapter_config.json'))) as Record<string, unknown>;
      expect(config.target_modules).toEqual(expected);
    }
  });

  it("adapts GPT-2's Conv1D (stored in × out) with fan_in_fan_out: B·A is the transpose of the stored ΔW", async () => {
    const name = 'transformer.h.0.mlp.c_fc.weight';
    const delta = plantedUpdate(16, 64, [3, 1]); // stored in × out
    const p = plantedPair([{ name, rows: 16, cols: 64, delta }], { dtype: 'F32', config: { model_type: 'gpt2', n_embd: 16, n_head: 2 } });
    const out = memoryOutput();
    const report = await extractLora(await pairOf(p), topSingularTripletsCpu, out, { target: { rank: 2 } });
    await out.commit();
    expect(report.modules[0]).toMatchObject({ kind: 'conv1d', shape: [64, 16], rank: 2 });
    const config = JSON.parse(new TextDecoder().decode(out.files.get('adapter_config.json'))) as Record<string, unknown>;
    expect(config.fan_in_fan_out).toBe(true);
    const adapter = await open(new Map([...out.files]));
    const [x] = findLoraPairs(adapter.tensors, adapter.adapterConfig).pairs;
    expect([x.a.shape, x.b.shape]).toEqual([
      [2, 16],
      [64, 2],
    ]);
    const src = adapter.sources.get(x.a.file)!;
    const ba = product(await readTensorAsF32(src, x.b), await readTensorAsF32(src, x.a), 64, 2, 16, x.scale);
    const expected = transposed(delta, 16, 64);
    // f32 storage of the fine-tuned weights rounds ΔW: a relative 1e-6 of ‖W‖ at most
    expect(frob(ba.map((v, i) => v - expected[i])) / frob(expected)).toBeLessThan(1e-5);
  });
  it('adapts an embedding as PEFT does: lora_embedding_A [r, vocab], lora_embedding_B [dim, r], B·A = ΔWᵀ', async () => {
    const name = 'model.embed_tokens.weight';
    const p = plantedPair([{ name, rows: 64, cols: 16, sigma: [3, 1] }], { config: LLAMA });
    const out = memoryOutput();
    const report = await extractLora(await pairOf(p), topSingularTripletsCpu, out, { target: { rank: 2 } });
    await out.commit();
    expect(report.modules[0]).toMatchObject({ kind: 'embedding', shape: [16, 64], rank: 2 });
    const adapter = await open(new Map([...out.files]));
    const [x] = findLoraPairs(adapter.tensors, adapter.adapterConfig).pairs;
    expect([x.embedding, x.a.name, x.a.shape, x.b.name, x.b.shape]).toEqual([
      true,
      'base_model.model.model.embed_tokens.lora_embedding_A',
      [2, 64],
      'base_model.model.model.embed_tokens.lora_embedding_B',
      [16, 2],
    ]);
    const src = adapter.sources.get(x.a.file)!;
    const ba = product(await readTensorAsF32(src, x.b), await readTensorAsF32(src, x.a), 16, 2, 64, x.scale);
    const expected = transposed(p.deltas.get(name)!, 64, 16);
    expect(frob(ba.map((v, i) => v - expected[i])) / frob(expected)).toBeLessThan(1e-6);
  });
});

describe('rewind', () => {
  // grouped-query attention: 4 query heads of 4 rows, 2 key/value heads; ΔW planted in known heads
  function headPair(dtype: string): PlantedPair {
    const q = new Float64Array(16 * 16);
    const k = new Float64Array(8 * 16);
    const o = new Float64Array(16 * 16);
    const fill = (m: Float64Array, cols: number, pick: (i: number, j: number) => number) => {
      for (let i = 0; i < m.length / cols; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = pick(i, j);
    };
    fill(q, 16, (i) => (i >= 8 && i < 12 ? 0.5 : 0.01)); // q head 2 carries most
    fill(k, 16, (i) => (i >= 4 ? 0.25 : 0)); // kv head 1 only
    fill(o, 16, (_, j) => (j < 4 ? 0.375 : 0)); // o head 0 (columns 0–3) only
    return plantedPair(
      [
        { name: Q, rows: 16, cols: 16, delta: q },
        { name: K, rows: 8, cols: 16, delta: k },
        { name: O, rows: 16, cols: 16, delta: o },
        { name: UP, rows: 32, cols: 16, sigma: [1] },
      ],
      { dtype, config: LLAMA, metadata: { format: 'pt', note: 'kept' } },
    );
  }

  it('ranks heads by ‖ΔW‖², grouped-query aware, across the model', async () => {
    const pair = await pairOf(headPair('F32'));
    const scores = await headScores(pair);
    expect(scores.filter((s) => s.tensor === K).length).toBe(2);
    // 4 + 2 + 4 heads; 30 % of 10 is 3: q head 2, o head 0, k head 1 (energies 4·16·0.25 = 16, 16·4·0.140625 = 9, 4·16·0.0625 = 4)
    const top = chooseHeads(scores, 30, false);
    expect(top.map((h) => [h.tensor, h.head])).toEqual([
      [Q, 2],
      [O, 0],
      [K, 1],
    ]);
    expect(top[0].energy).toBeCloseTo(16, 5);
  });

  it('puts the heads back to the base bytes and leaves every other byte of the fine-tuned file', async () => {
    for (const dtype of ['BF16', 'F32']) {
      const p = headPair(dtype);
      const pair = await pairOf(p);
      const heads = parseHeadsFile(
        JSON.stringify({
          format: HEADS_FORMAT,
          version: 1,
          heads: [
            { tensor: K, head: 1 },
            { tensor: O, head: 0 },
            { tensor: Q, head: 1 },
          ],
        }),
        'heads.json',
        pair,
      );
      const out = memoryOutput();
      await rewind(pair, out, { heads, matrices: [UP] }, { index: false });
      await out.commit();
      const written = await open(new Map([['model.safetensors', out.files.get('model.safetensors')!]]));
      const [ftBytes, baseBytes] = [p.ft.get('model.safetensors')!, p.base.get('model.safetensors')!];
      const ft = await open(p.ft);
      const baseCkpt = await open(p.base);
      // the two fixture files have the same header, so a tensor's bytes lie at the same offsets in both
      const width = dtype === 'BF16' ? 2 : 4;
      const rewound = (name: string, i: number, j: number) =>
        name === UP || (name === Q && i >= 4 && i < 8) || (name === K && i >= 4) || (name === O && j < 4);
      for (const t of written.tensors) {
        const src = ft.tensors.find((x) => x.name === t.name)!;
        const bytes = out.files.get('model.safetensors')!.subarray(t.begin, t.begin + t.byteLength);
        const cols = t.shape[1];
        for (let e = 0; e < t.byteLength / width; e++) {
          const from = rewound(t.name, Math.floor(e / cols), e % cols) ? baseBytes : ftBytes;
          for (let b = 0; b < width; b++)
            if (bytes[e * width + b] !== from[src.begin + e * width + b]) throw new Error(`${t.name} element ${e} differs`);
        }
        // ΔW against the base: exactly zero on the rewound heads
        const now = await readFloat64(written, t);
        const stored = await readFloat64(
          baseCkpt,
          baseCkpt.tensors.find((x) => x.name === t.name)!,
        );
        for (let e = 0; e < now.length; e++) if (rewound(t.name, Math.floor(e / cols), e % cols)) expect(now[e] - stored[e]).toBe(0);
      }
      const header = await readSafetensorsHeader(memorySource('m', out.files.get('model.safetensors')!));
      expect(header.metadata.note).toBe('kept');
      expect(header.metadata[NOTE_KEY]).toMatch(/^rewind: 3 heads and 1 whole matrix/);
      expect(header.tensors.map((t) => t.name)).toEqual(ft.tensors.map((t) => t.name));
    }
  });

  it('keeps a sharded layout: the same shards and a new index', async () => {
    const p = headPair('BF16');
    const sharded = async (files: Map<string, Uint8Array>) => {
      const shards = await shardSafetensors(files.get('model.safetensors')!, 2);
      shards.set('config.json', files.get('config.json')!);
      return shards;
    };
    const [base, ft] = [await sharded(p.base), await sharded(p.ft)];
    const pair = pairCheckpoints(await open(base), await open(ft));
    const out = memoryOutput();
    await rewind(pair, out, { heads: [{ tensor: Q, head: 0 }], matrices: [] }, { index: true });
    await out.commit();
    const index = JSON.parse(new TextDecoder().decode(out.files.get('model.safetensors.index.json'))) as {
      weight_map: Record<string, string>;
      metadata: { total_size: number };
    };
    const given = JSON.parse(new TextDecoder().decode(ft.get('model.safetensors.index.json'))) as { weight_map: Record<string, string> };
    expect(index.weight_map).toEqual(given.weight_map);
    const reopened = await open(new Map([...out.files].filter(([n]) => n !== 'rewound-heads.json')));
    expect(reopened.errors).toEqual([]);
    expect(index.metadata.total_size).toBe(reopened.totalBytes);
    expect(reopened.tensors.length).toBe(pair.ft.tensors.length);
  });
});

describe('truncate', () => {
  const sigma = [4, 3, 2, 1];
  it('writes BASE + the best rank-k part of ΔW: its ΔW has rank k (float64, to rounding)', async () => {
    const p = plantedPair([{ name: UP, rows: 40, cols: 16, sigma }], { config: LLAMA });
    const pair = await pairOf(p);
    const out = memoryOutput();
    const report = await truncateUpdate(pair, topSingularTripletsCpu, out, { rank: 2 }, { index: false });
    await out.commit();
    expect(report.matrices[0]).toMatchObject({ rank: 2 });
    expect(report.matrices[0].relative_error).toBeCloseTo(Math.sqrt(5 / 30), 10);
    const written = await open(new Map([['model.safetensors', out.files.get('model.safetensors')!]]));
    const w = await readFloat64(written, written.tensors[0]);
    const base = p.baseValues.get(UP)!;
    const expected = plantedUpdate(40, 16, sigma, 2);
    const diff = w.map((v, i) => v - base[i] - expected[i]);
    expect(frob(diff) / frob(expected)).toBeLessThan(1e-12);
  });

  it('keeps the fewest triplets that reach the energy share, and rounds to bf16 once, to nearest', async () => {
    const p = plantedPair([{ name: UP, rows: 40, cols: 16, sigma }], { dtype: 'BF16', config: LLAMA });
    const pair = await pairOf(p);
    const out = memoryOutput();
    // cumulative shares 16, 25, 29, 30 of 30: 95 % needs 3
    const report = await truncateUpdate(pair, topSingularTripletsCpu, out, { energy: 0.95 }, { index: false });
    await out.commit();
    expect(report.matrices[0].rank).toBe(3);
    const written = await open(new Map([['model.safetensors', out.files.get('model.safetensors')!]]));
    const w = await readFloat64(written, written.tensors[0]);
    const base = await readFloat64(pair.base, pair.base.tensors[0]);
    // the rank-3 part of the stored ΔW (bf16 rounding makes it full rank), from the engine's SVD
    const ft = await readFloat64(pair.ft, pair.ft.tensors[0]);
    const t = topSingularTripletsCpu(
      ft.map((v, i) => v - base[i]),
      40,
      16,
      { rank: 3 },
    );
    for (let i = 0; i < w.length; i++) {
      const [row, col] = [Math.floor(i / 16), i % 16];
      let low = 0;
      for (let k = 0; k < 3; k++) low += t.u[row * 3 + k] * t.sigma[k] * t.v[col * 3 + k];
      const target = base[i] + low;
      // bf16 keeps 8 significant bits: the nearest value is within half a unit in the last place
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(target))) - 7);
      expect(Math.abs(w[i] - target)).toBeLessThanOrEqual(ulp / 2 + 1e-9 * ulp);
    }
  });

  it('at full rank gives back the fine-tuned bf16 file byte for byte (rounding returns each weight to its stored value)', async () => {
    const p = plantedPair([{ name: UP, rows: 40, cols: 16, sigma }], { dtype: 'BF16', config: LLAMA });
    const out = memoryOutput();
    await truncateUpdate(await pairOf(p), topSingularTripletsCpu, out, { rank: 16 }, { index: false });
    await out.commit();
    const [written, ft] = [await open(new Map([['model.safetensors', out.files.get('model.safetensors')!]])), await open(p.ft)];
    const [a, b] = [written.tensors[0], ft.tensors[0]];
    expect(out.files.get('model.safetensors')!.subarray(a.begin, a.begin + a.byteLength)).toEqual(
      p.ft.get('model.safetensors')!.subarray(b.begin, b.begin + b.byteLength),
    );
  });

  it('copies matrices the fine-tune did not change, and 1-D weights, byte for byte', async () => {
    const p = plantedPair(
      [
        { name: Q, rows: 16, cols: 16 },
        { name: UP, rows: 40, cols: 16, sigma: [1] },
      ],
      { dtype: 'BF16', config: LLAMA, norms: [{ name: 'model.norm.weight', n: 16 }] },
    );
    const pair = await pairOf(p);
    const out = memoryOutput();
    const report = await truncateUpdate(pair, topSingularTripletsCpu, out, { rank: 1 }, { index: false });
    await out.commit();
    expect(report.unchanged).toEqual([Q]);
    expect(report.kept_as_finetuned).toEqual(['model.norm.weight']);
    const written = await open(new Map([['model.safetensors', out.files.get('model.safetensors')!]]));
    const ft = await open(p.ft);
    for (const name of [Q, 'model.norm.weight']) {
      const [a, b] = [written.tensors.find((t) => t.name === name)!, ft.tensors.find((t) => t.name === name)!];
      expect(out.files.get('model.safetensors')!.subarray(a.begin, a.begin + a.byteLength)).toEqual(
        p.ft.get('model.safetensors')!.subarray(b.begin, b.begin + b.byteLength),
      );
    }
  });
});

describe('errors name the file and the tensor', () => {
  async function failure(base: Checkpoint, ft: Checkpoint): Promise<ScanError> {
    try {
      pairCheckpoints(base, ft);
    } catch (e) {
      if (e instanceof ScanError) return e;
      throw e;
    }
    throw new Error('no error');
  }
  it('shapes that disagree, a missing tensor, architectures that differ', async () => {
    const a = plantedPair([{ name: UP, rows: 32, cols: 16 }], { config: LLAMA });
    const b = plantedPair([{ name: UP, rows: 24, cols: 16 }], { config: LLAMA });
    const shapes = await failure(await open(a.base, 'base'), await open(b.ft, 'ft'));
    expect(shapes.code).toBe('SHAPES_DIFFER');
    expect(shapes.message).toBe(`model.safetensors: tensor "${UP}": shape [24, 16] here but [32, 16] in the base (model.safetensors)`);
    const c = plantedPair(
      [
        { name: UP, rows: 32, cols: 16 },
        { name: Q, rows: 16, cols: 16 },
      ],
      { config: LLAMA },
    );
    const missing = await failure(await open(a.base, 'base'), await open(c.ft, 'ft'));
    expect(missing.code).toBe('MISSING_TENSOR');
    expect(missing.message).toBe(`model.safetensors: tensor "${Q}": the base lacks this weight of model.safetensors`);
    const d = plantedPair([{ name: UP, rows: 32, cols: 16 }], { config: { ...LLAMA, model_type: 'qwen2' } });
    const arch = await failure(await open(a.base, 'base'), await open(d.ft, 'ft'));
    expect(arch.code).toBe('ARCHITECTURES_DIFFER');
    expect(arch.message).toBe('base and ft: architectures differ (config.json model_type: "llama" and "qwen2")');
  });

  it('an engine that fails names the weight', async () => {
    const pair = await pairOf(plantedPair([{ name: UP, rows: 32, cols: 16, sigma: [1] }], { config: LLAMA }));
    const failing = () => {
      throw new Error('QL iteration did not converge');
    };
    await expect(extractLora(pair, failing, memoryOutput(), { target: { rank: 1 } })).rejects.toThrow(
      `model.safetensors: tensor "${UP}": the singular triplets of ΔW (32 × 16) failed: QL iteration did not converge`,
    );
  });

  it('a sink that fails (a full disk) fails the write with its error, and nothing is committed', async () => {
    const p = plantedPair([{ name: UP, rows: 32, cols: 16, sigma: [1] }], { config: LLAMA });
    const pair = await pairOf(p);
    let aborted = false;
    const full: OutputFolder = {
      async create() {
        let n = 0;
        return {
          async write(bytes) {
            n += bytes.byteLength;
            if (n > 1000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          },
          async close() {},
        };
      },
      async commit() {
        throw new Error('must not commit');
      },
      async abort() {
        aborted = true;
      },
    };
    await expect(truncateUpdate(pair, topSingularTripletsCpu, full, { rank: 1 }, { index: false })).rejects.toThrow(/ENOSPC/);
    expect(aborted).toBe(false); // the caller aborts: core only streams
  });
});

describe('encoding float64 to the dtypes', () => {
  it('agrees with the f32 route where there is no double rounding (inputs that are f32 values)', () => {
    const values = gaussianMatrix(1, 4000, 7, 3);
    for (let i = 0; i < values.length; i++) {
      expect(float64ToBf16(values[i])).toBe(floatToBf16(values[i]));
      expect(float64ToHalf(values[i])).toBe(floatToHalf(values[i]));
    }
    expect([float64ToBf16(1 + 2 ** -8), float64ToBf16(1 + 3 * 2 ** -8), float64ToBf16(-0), float64ToBf16(3.5e38)]).toEqual([
      0x3f80, 0x3f82, 0x8000, 0x7f80,
    ]);
    expect([float64ToHalf(65519), float64ToHalf(65520), float64ToHalf(2 ** -25), float64ToHalf(3 * 2 ** -26)]).toEqual([
      0x7bff, 0x7c00, 0, 1,
    ]);
  });
  it('rounds once from float64 (the f32 route can round twice)', () => {
    // 1 + 2^-8 + 2^-30: above the bf16 midpoint, but f32 rounds it to the midpoint, which then ties to even (down)
    const x = 1 + 2 ** -8 + 2 ** -30;
    expect(float64ToBf16(x)).toBe(0x3f81);
    expect(floatToBf16(x)).toBe(0x3f80);
    expect(() => encodeFloat64('F8_E4M3', new Float64Array(1), 'f', 't')).toThrow(/F8_E4M3/);
  });
});
