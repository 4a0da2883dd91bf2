/**
 * The CLI on two worker threads, where the idle one sums parts of the other's long matrix (core/gram-parts.ts,
 * the Grams crossing between threads): metrics.json and the YAML the very bytes of a scan on one thread.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gramPartLength, gramParts } from '../core/gram-parts.ts';
import { longEmbeddingModel, writeSparseSafetensors } from '../../test-fixtures/builders/sparse.ts';

const root = join(import.meta.dirname, '../..');
const HIDDEN = 16;
const VOCAB = 2 * gramPartLength(HIDDEN) + 98_765;

async function scan(file: string, out: string, threads: number): Promise<{ metrics: string; yaml: string }> {
  const args = [join(root, 'bin/spectral-workbench.js'), 'scan', file, '--out', out, '--engine', 'cpu', '--threads', String(threads)];
  const { code, stderr } = await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 16 * 2 ** 20 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  expect(code, stderr).toBe(0);
  const yaml = readdirSync(out).find((f) => f.endsWith('.yaml'));
  expect(yaml).toBeDefined();
  return { metrics: readFileSync(join(out, 'metrics.json'), 'utf8'), yaml: readFileSync(join(out, yaml!), 'utf8') };
}

describe('a scan on two threads sharing a long matrix', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sw-shared-parts-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes the very metrics and YAML of a one-thread scan', async () => {
    expect(gramParts(HIDDEN, VOCAB)).toHaveLength(3);
    const tensors = longEmbeddingModel(VOCAB, HIDDEN);
    const { path } = writeSparseSafetensors(join(tmp, 'model.safetensors'), tensors, () => true, 3);
    const one = await scan(path, join(tmp, 'one'), 1);
    const two = await scan(path, join(tmp, 'two'), 2);
    const records = (JSON.parse(one.metrics) as { matrices: { name: string; sigma_max: number }[] }).matrices;
    // every tensor analysed (and the tied lm_head beside them)
    for (const { name } of tensors) expect(records.map((r) => r.name)).toContain(name);
    expect(records.find((r) => r.name === 'model.embed_tokens.weight')!.sigma_max).toBeGreaterThan(0);
    expect(two.metrics).toBe(one.metrics);
    expect(two.yaml).toBe(one.yaml);
  }, 300_000);
});
