// A File picked in the page that changes on disk afterwards: Chromium's reads of it reject with
// NotReadableError. The tensors read before stay whole; the next one fails with FILE_CHANGED, one
// line naming the file and the tensor, as the CLI says it.
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { planScan } from '../core/scan/plan.ts';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';
import { analyzeJob } from './analyze.ts';
import { blobSource } from './blob-source.ts';

/** A File whose slices reject with `failure` once `changed` is set, as Chromium's do for a file modified after it was picked. */
class ChangingFile extends File {
  changed = false;
  constructor(
    bytes: Uint8Array,
    name: string,
    private readonly failure: () => Error,
  ) {
    super([new Uint8Array(bytes)], name);
  }
  override slice(start?: number, end?: number): Blob {
    const part = super.slice(start, end);
    if (!this.changed) return part;
    const failure = this.failure;
    return new (class extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(failure());
      }
    })([part]);
  }
}

const first = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
const second = Float32Array.from({ length: 12 }, (_, i) => (i % 5) * 0.25);
const bytes = buildSafetensors([
  { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [3, 4], values: first },
  { name: 'model.layers.1.mlp.down_proj.weight', dtype: 'F32', shape: [3, 4], values: second },
]);
const notReadable = () => new DOMException('The requested file could not be read', 'NotReadableError');

describe('blobSource on a File that changed on disk', () => {
  it('reads the tensors before the change whole and fails the next with FILE_CHANGED naming file and tensor', async () => {
    const file = new ChangingFile(bytes, 'model.safetensors', notReadable);
    const source = blobSource(file);
    const ckpt = await openCheckpoint([source]);
    const [a, b] = ckpt.tensors;
    expect(Array.from(await readTensorAsF32(source, a))).toEqual(Array.from(first));
    file.changed = true;
    const failure = await readTensorAsF32(source, b).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 'FILE_CHANGED', file: 'model.safetensors', tensor: 'model.layers.1.mlp.down_proj.weight' });
    const message = (failure as Error).message;
    expect(message.startsWith('model.safetensors: tensor "model.layers.1.mlp.down_proj.weight": changed on disk')).toBe(true);
    expect(message).toContain('NotReadableError');
    expect(message).not.toMatch(/\n/);
  });

  it('is the outcome of that matrix in a scan, the one before it analysed', async () => {
    const file = new ChangingFile(bytes, 'model.safetensors', notReadable);
    const source = blobSource(file);
    const jobs = planScan(await openCheckpoint([source])).jobs;
    const engine = new CpuEngine();
    const before = await analyzeJob(jobs[0], source, engine);
    file.changed = true;
    const after = await analyzeJob(jobs[1], source, engine);
    engine.dispose();
    // Σσ² = ‖W‖_F² of the first matrix, summed here in float64
    const sv = before.ok ? before.record.singularValues : null;
    expect(sv!.reduce((s, x) => s + x * x, 0)).toBeCloseTo(
      first.reduce((s, x) => s + x * x, 0),
      8,
    );
    expect(after).toMatchObject({ ok: false, error: { code: 'FILE_CHANGED', tensor: jobs[1].name } });
  });

  it('leaves any other read failure a READ_FAILED', async () => {
    const file = new ChangingFile(bytes, 'model.safetensors', () => new TypeError('network gone'));
    const source = blobSource(file);
    const [, b] = (await openCheckpoint([source])).tensors;
    file.changed = true;
    await expect(readTensorAsF32(source, b)).rejects.toMatchObject({ code: 'READ_FAILED', tensor: b.name });
  });
});
