// A file that cannot be opened when its job comes (removed mid-scan, no permission) fails that job
// with a typed one-line error naming the file and the tensor; the other files' jobs still run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { planScan } from '../core/scan/plan.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { createAnalyzer } from './analyzer.ts';

const demo = join(import.meta.dirname, '../../public/demo/phase0-base.safetensors');

describe('the analyzer when a file cannot be opened', () => {
  it('returns READ_FAILED for that job, naming file and tensor, and analyses the next job of a good file', async () => {
    const bytes = new Uint8Array(readFileSync(demo));
    const ckpt = await openCheckpoint([memorySource('phase0-base.safetensors', bytes)]);
    const [first, second] = planScan(ckpt).jobs.filter((j) => !j.vector);
    const analyzer = createAnalyzer<'gone' | 'here'>((ref) => {
      if (ref === 'gone') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return memorySource('phase0-base.safetensors', bytes);
    }, new CpuEngine());
    const failed = await analyzer.analyze(first, 'gone', 'exact');
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(failed.error).toMatchObject({ code: 'READ_FAILED', file: first.tensor.file, tensor: first.name });
    expect(failed.error.message).toMatch(/could not open the file: EACCES: permission denied/);
    expect(failed.error.message).not.toMatch(/\n/);
    const ok = await analyzer.analyze(second, 'here', 'exact');
    expect(ok.ok && ok.record.status).toBe('ok');
    await analyzer.dispose();
  });
});
