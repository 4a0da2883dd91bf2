import { describe, expect, it } from 'vitest';
import type { MatrixJob, ScanPlan } from './plan.ts';
import type { MatrixRecord } from './record.ts';
import { runScan } from './run.ts';

/** A stored rows × cols tensor of `width`-byte elements. */
const sized = (name: string, rows: number, cols: number, width = 2) =>
  ({ name, rows, cols, tensor: { name, file: 'm.safetensors', byteLength: rows * cols * width } }) as MatrixJob;
const job = (name: string) => sized(name, 2, 3, 4);
const plan: ScanPlan = {
  jobs: [job('model.embed_tokens.weight'), job('model.layers.0.mlp.up_proj.weight')],
  aliases: [
    { name: 'lm_head.weight', of: 'model.embed_tokens.weight', module: 'lm_head', spectrumModule: 'lm_head', spectrumType: 'lm_head' },
  ],
  skipped: [],
  unmapped: [],
  totalBytes: 48,
};
const ckpt = { name: 'm', errors: [], missing: [] };

async function scan(keepSingularValues?: boolean) {
  const seen: MatrixRecord[] = [];
  const result = await runScan(ckpt, plan, {
    engine: 'cpu',
    mode: 'exact',
    concurrency: 2,
    ...(keepSingularValues !== undefined ? { keepSingularValues } : {}),
    run: async (j) => ({ ok: true, record: { name: j.name, singularValues: Float64Array.of(3, 1) } as MatrixRecord }),
    onRecord: (r) => seen.push(r),
  });
  return { result, seen };
}

describe('runScan', () => {
  it('keeps every record with its singular values by default, tied aliases included', async () => {
    const { result, seen } = await scan();
    expect(result.records.map((r) => r.name)).toEqual(['model.embed_tokens.weight', 'model.layers.0.mlp.up_proj.weight', 'lm_head.weight']);
    expect(result.records.map((r) => Array.from(r.singularValues ?? []))).toEqual([
      [3, 1],
      [3, 1],
      [3, 1],
    ]);
    expect(seen).toHaveLength(3);
  });

  it('keepSingularValues false: records and aliases are kept and handed on without them', async () => {
    const { result, seen } = await scan(false);
    expect(result.records.map((r) => r.name)).toEqual(['model.embed_tokens.weight', 'model.layers.0.mlp.up_proj.weight', 'lm_head.weight']);
    expect(result.records.map((r) => r.singularValues)).toEqual([null, null, null]);
    expect(seen.map((r) => r.singularValues)).toEqual([null, null, null]);
  });
});

describe('runScan order', () => {
  it('starts the costliest matrices first, so the last ones to finish are small; the result stays in plan order', async () => {
    // Qwen2.5-0.5B's shapes in plan order (layer by layer, the embedding last). Gram min²·max plus the
    // eigensolver's 2·min³ (in multiply-adds) plus the bytes, by hand:
    //   embed 151936 × 896: 896²·151936 + 2·896³ + 272 MB ≈ 1.237e11
    //   gate / up 4864 × 896 and down 896 × 4864: 896²·4864 + 2·896³ + 8.7 MB ≈ 5.35e9
    //   q / o 896 × 896: 3·896³ + 1.6 MB ≈ 2.16e9;   k 128 × 896: 128²·896 + 2·128³ ≈ 1.9e7
    const jobs = [
      sized('model.layers.0.self_attn.q_proj.weight', 896, 896),
      sized('model.layers.0.self_attn.k_proj.weight', 128, 896),
      sized('model.layers.0.mlp.down_proj.weight', 896, 4864),
      sized('model.layers.0.mlp.up_proj.weight', 4864, 896),
      sized('model.layers.1.self_attn.k_proj.weight', 128, 896),
      sized('model.embed_tokens.weight', 151936, 896),
    ];
    const started: string[] = [];
    const result = await runScan(
      ckpt,
      { jobs, aliases: [], skipped: [], unmapped: [], totalBytes: 0 },
      {
        engine: 'cpu',
        mode: 'exact',
        concurrency: 1,
        run: async (j) => {
          started.push(j.name);
          return { ok: true, record: { name: j.name, singularValues: null } as MatrixRecord };
        },
      },
    );
    expect(started).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.mlp.down_proj.weight', // ties keep plan order
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.1.self_attn.k_proj.weight',
    ]);
    expect(result.records.map((r) => r.name)).toEqual(jobs.map((j) => j.name));
  });
});
