import { describe, expect, it } from 'vitest';
import type { MatrixJob, ScanPlan } from './plan.ts';
import type { MatrixRecord } from './record.ts';
import { runScan } from './run.ts';

const job = (name: string) => ({ name, rows: 2, cols: 3, tensor: { name, file: 'm.safetensors', byteLength: 24 } }) as MatrixJob;
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
