import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topSingularTripletsCpu } from '../../engine/low-rank/randomized-svd.ts';
import { plantedPair } from '../../../test-fixtures/builders/planted.ts';
import { memorySource } from '../formats/byte-source.ts';
import { openCheckpoint } from '../formats/checkpoint.ts';
import { readTensorAsF32 } from '../formats/read-tensor.ts';
import { readSafetensorsHeader } from '../formats/safetensors.ts';
import { findLoraPairs, type LoraPair } from '../scan/plan-lora.ts';
import { extractLora } from './extract-lora.ts';
import { pairCheckpoints } from './pair.ts';
import { memoryOutput } from './sink.ts';

const root = join(import.meta.dirname, '../../..');
const open = (files: ReadonlyMap<string, Uint8Array>) => openCheckpoint([...files].map(([n, b]) => memorySource(n, b)));

/** scale·B·A (out × in) of an adapter's pair, in float64. */
async function update(
  files: ReadonlyMap<string, Uint8Array>,
  p: LoraPair,
  source = memorySource(p.a.file, files.get(p.a.file)!),
): Promise<Float64Array> {
  const [a, b] = [await readTensorAsF32(source, p.a), await readTensorAsF32(source, p.b)];
  const [out, r, cols] = [p.b.shape[0], p.rank, p.a.shape[1]];
  const m = new Float64Array(out * cols);
  for (let i = 0; i < out; i++)
    for (let k = 0; k < r; k++) for (let j = 0; j < cols; j++) m[i * cols + j] += p.scale * b[i * r + k] * a[k * cols + j];
  return m;
}

function transposed(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

// Real adapters from public repositories: third-party files, kept beside the checkout and never copied
// into it (docs/testing.md). Where they are absent the runner reports these tests as skipped, saying so.
describe('an adapter extracted from a real adapter’s update has its layout and gives its update back', () => {
  const lora = join(root, '../shared/fixtures/lora');
  const cases: [string, RegExp, Record<string, unknown>][] = [
    ['gpt2-lora-tigrinya', /\.h\.0\./, { model_type: 'gpt2', n_embd: 768, n_head: 12 }],
    [
      'qwen2.5-0.5b-instruct-lora',
      /\.layers\.0\./,
      { model_type: 'qwen2', hidden_size: 896, num_attention_heads: 14, num_key_value_heads: 2 },
    ],
  ];
  for (const [name, layer, config] of cases) {
    const dir = join(lora, name);
    const absent = existsSync(dir) ? '' : ` (skipped: the third-party adapter folder ${dir} is absent)`;
    it.skipIf(absent)(
      `${name}: ΔW = its scale·B·A planted in a base, extracted at its rank${absent}`,
      async () => {
        const theirs = new Map(
          ['adapter_model.safetensors', 'adapter_config.json'].map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
        );
        const adapter = await open(theirs);
        const pairs = findLoraPairs(adapter.tensors, adapter.adapterConfig).pairs.filter((p) => layer.test(p.module));
        const theirConfig = adapter.adapterConfig!;
        const fanInFanOut = theirConfig.fan_in_fan_out === true;
        // the stored weight: out × in, or in × out for GPT-2's Conv1D (which fan_in_fan_out marks)
        const planted = await Promise.all(
          pairs.map(async (p) => {
            const [out, cols] = [p.b.shape[0], p.a.shape[1]];
            const d = await update(theirs, p);
            return fanInFanOut
              ? { name: p.baseName, rows: cols, cols: out, delta: transposed(d, out, cols), expected: d }
              : { name: p.baseName, rows: out, cols, delta: d, expected: d };
          }),
        );
        const fixture = plantedPair(planted, { dtype: 'F32', config });
        const pair = pairCheckpoints(await open(fixture.base), await open(fixture.ft));
        const out = memoryOutput();
        await extractLora(pair, topSingularTripletsCpu, out, { target: { rank: theirConfig.r as number } });
        await out.commit();

        // the same tensor names, dtypes and shapes as the published file's, and its metadata
        const mine = await readSafetensorsHeader(memorySource('mine', out.files.get('adapter_model.safetensors')!));
        const published = await readSafetensorsHeader(memorySource('theirs', theirs.get('adapter_model.safetensors')!));
        const layout = (h: typeof mine) =>
          h.tensors.filter((t) => layer.test(t.name)).map((t) => [t.name, t.dtype, t.shape.join('×')].join(' '));
        expect(layout(mine).sort()).toEqual(layout(published).sort());
        expect(mine.metadata.format).toBe(published.metadata.format);
        // the config's fields are PEFT's, with the same values where they mean the same
        const myConfig = JSON.parse(new TextDecoder().decode(out.files.get('adapter_config.json'))) as Record<string, unknown>;
        for (const key of Object.keys(myConfig)) expect(Object.keys(theirConfig)).toContain(key);
        for (const key of ['peft_type', 'r', 'fan_in_fan_out', 'target_modules', 'bias', 'use_rslora', 'use_dora', 'task_type'])
          expect(myConfig[key]).toEqual(theirConfig[key]);

        // re-read by our LoRA reader: scale·B·A is their update (f32 storage of the planted weights is the only rounding)
        const reopened = await open(out.files);
        for (const p of findLoraPairs(reopened.tensors, reopened.adapterConfig).pairs) {
          const mineUpdate = await update(out.files, p);
          const expected = planted.find((x) => x.name === p.baseName)!.expected;
          let diff = 0;
          let norm = 0;
          for (let i = 0; i < expected.length; i++) {
            diff += (mineUpdate[i] - expected[i]) ** 2;
            norm += expected[i] ** 2;
          }
          expect(Math.sqrt(diff / norm)).toBeLessThan(1e-4);
        }
      },
      120_000,
    );
  }
});
