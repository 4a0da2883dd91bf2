/** Scan a checkpoint file in-process with the CPU engine (tests): records by tensor name. */
import { readFileSync } from 'node:fs';
import { memorySource } from '../../src/core/formats/byte-source.ts';
import { openCheckpoint } from '../../src/core/formats/checkpoint.ts';
import { planScan } from '../../src/core/scan/plan.ts';
import type { MatrixRecord } from '../../src/core/scan/record.ts';
import { CpuEngine } from '../../src/engine/cpu/cpu-engine.ts';
import { analyzeJob } from '../../src/workers/analyze.ts';

export async function scanFile(path: string): Promise<Map<string, MatrixRecord>> {
  const source = memorySource(path.split('/').pop()!, new Uint8Array(readFileSync(path)));
  const ckpt = await openCheckpoint([source]);
  const engine = new CpuEngine();
  const records = new Map<string, MatrixRecord>();
  for (const job of planScan(ckpt).jobs) {
    const out = await analyzeJob(job, source, engine);
    if (!out.ok) throw new Error(out.error.message);
    records.set(job.name, out.record);
  }
  return records;
}

/** Scan a family fixture's files in-process with the CPU engine: records by name, as the page's store holds them. */
export async function scanFixture(files: ReadonlyMap<string, Uint8Array>): Promise<Record<string, MatrixRecord>> {
  const sources = new Map([...files].map(([n, b]) => [n, memorySource(n, b)]));
  const engine = new CpuEngine();
  const records: Record<string, MatrixRecord> = Object.create(null) as Record<string, MatrixRecord>;
  for (const job of planScan(await openCheckpoint([...sources.values()])).jobs) {
    const out = await analyzeJob(job, sources.get(job.tensor.file) ?? [...sources.values()][0], engine, {
      sourceFor: (ref) => sources.get(ref)!,
    });
    if (!out.ok) throw new Error(out.error.message);
    records[job.name] = out.record;
  }
  return records;
}
