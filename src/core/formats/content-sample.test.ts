import { describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../../test-fixtures/builders/safetensors.ts';
import { memorySource } from './byte-source.ts';
import { openCheckpoint } from './checkpoint.ts';

const names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.self_attn.q_proj.weight'];
const file = (weights: Float32Array[]) =>
  buildSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [64, 64], values: weights[i] })));
const fingerprint = async (bytes: Uint8Array) => (await openCheckpoint([memorySource('model.safetensors', bytes)])).fingerprint;

describe('a checkpoint fingerprint', () => {
  it('tells apart two checkpoints of one run: the same file name, size and header, other weights', async () => {
    const base = [gaussianMatrix(64, 64, 1, 0.02), gaussianMatrix(64, 64, 2, 0.02)];
    const a = file(base);
    // a later step that trained only layer 1
    const b = file([base[0], gaussianMatrix(64, 64, 3, 0.02)]);
    expect(a.length).toBe(b.length);
    const headerLength = 8 + Number(new DataView(a.buffer, a.byteOffset).getBigUint64(0, true));
    expect(Buffer.from(a.subarray(0, headerLength)).equals(Buffer.from(b.subarray(0, headerLength)))).toBe(true);
    expect(await fingerprint(a)).not.toBe(await fingerprint(b));
    // the same bytes give the same fingerprint
    expect(await fingerprint(file(base))).toBe(await fingerprint(a));
  });

  it('sees an update of only the last rows of a tensor (heads rewound elsewhere)', async () => {
    const base = [gaussianMatrix(64, 64, 1, 0.02), gaussianMatrix(64, 64, 2, 0.02)];
    const changed = Float32Array.from(base[1]);
    for (let i = 63 * 64; i < 64 * 64; i++) changed[i] += 1e-3;
    expect(await fingerprint(file([base[0], changed]))).not.toBe(await fingerprint(file(base)));
  });
});
