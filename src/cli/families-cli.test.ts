import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gpt2, loraAdapter } from '../../test-fixtures/builders/families.ts';
import { buildGguf } from '../../test-fixtures/builders/gguf.ts';
import { gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

async function scan(
  dir: string,
  input: string,
): Promise<{
  code: number;
  stderr: string;
  metrics: {
    matrices: { name: string; module: string; layer: number | null; shape: number[]; source?: string[] }[];
    unmapped: string[];
    skipped: { name: string }[];
  };
}> {
  const out = join(dir, 'out');
  try {
    const r = await run(
      process.execPath,
      [join(root, 'bin/spectral-workbench.js'), 'scan', input, '--out', out, '--threads', '2', '--quiet'],
      { cwd: root },
    );
    return { code: 0, stderr: r.stderr, metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr, metrics: { matrices: [], unmapped: [], skipped: [] } };
  }
}

describe('spectral-workbench scan on other families (worker threads read derived matrices by path)', () => {
  it('GPT-2 with a LoRA adapter in the same folder: merged Conv1D weights, q/k/v views, Spectrum files of the file’s names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-fam-'));
    const base = gpt2({ layers: 2, hidden: 16 });
    const adapter = loraAdapter([{ module: 'transformer.h.1.attn.c_attn', out: 48, in: 16 }], { r: 2, alpha: 4 });
    for (const [n, b] of [...base.files, ...adapter.files]) writeFileSync(join(dir, n), b);
    const r = await scan(dir, dir);
    expect(r.code, r.stderr).toBe(0);
    const byName = new Map(r.metrics.matrices.map((m) => [m.name, m]));
    expect(byName.get('transformer.h.1.attn.c_attn.weight')?.source).toEqual([
      'transformer.h.1.attn.c_attn.weight',
      'base_model.model.transformer.h.1.attn.c_attn.lora_A.weight',
      'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight',
    ]);
    expect(byName.get('transformer.h.1.attn.c_attn.v')).toMatchObject({ module: 'self_attn.v_proj', layer: 1, shape: [16, 16] });
    expect(byName.get('transformer.h.0.attn.c_attn.q')).toMatchObject({
      module: 'self_attn.q_proj',
      source: ['transformer.h.0.attn.c_attn.weight'],
    });
    expect(r.metrics.unmapped).toEqual([]);
    const yaml = readFileSync(
      join(dir, 'out', `snr_results_${dir.split('/').pop()!.replace(/_/g, '-')}_unfrozenparameters_25percent.yaml`),
      'utf8',
    );
    expect(yaml).toMatch(/# attn\.c_attn layers/);
    expect(yaml).not.toMatch(/c_attn\.q/);
  }, 60_000);

  it('a GGUF file: llama.cpp names mapped, dequantized Q8_0 analysed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-gguf-'));
    const file = join(dir, 'tiny.Q8_0.gguf');
    writeFileSync(
      file,
      buildGguf(
        [
          { name: 'token_embd.weight', type: 'Q8_0', shape: [64, 32], values: gaussianMatrix(64, 32, 1) },
          { name: 'blk.0.attn_q.weight', type: 'Q8_0', shape: [32, 32], values: gaussianMatrix(32, 32, 2) },
          { name: 'blk.0.ffn_down.weight', type: 'F16', shape: [32, 64], values: gaussianMatrix(32, 64, 3) },
          { name: 'blk.0.attn_norm.weight', type: 'F32', shape: [32], values: new Float32Array(32).fill(1) },
          { name: 'blk.0.ssm_mystery.weight', type: 'F32', shape: [8, 32], values: gaussianMatrix(8, 32, 4) },
        ],
        { 'general.architecture': { type: 'string', value: 'llama' } },
      ),
    );
    const r = await scan(dir, file);
    expect(r.code, r.stderr).toBe(0);
    const modules = Object.fromEntries(r.metrics.matrices.map((m) => [m.name, [m.layer, m.module]]));
    expect(modules).toMatchObject({
      'blk.0.attn_q.weight': [0, 'self_attn.q_proj'],
      'blk.0.ffn_down.weight': [0, 'mlp.down_proj'],
      'token_embd.weight': [null, 'model.embed_tokens'],
      'lm_head.weight': [null, 'lm_head'],
    });
    expect(r.metrics.unmapped).toEqual(['blk.0.ssm_mystery.weight']);
    const json = readFileSync(join(dir, 'out', 'snr_results_tiny.Q8-0.json'), 'utf8');
    expect(json).toMatch(/"model\.layers\.0\.self_attn\.q_proj": \{/);
  }, 60_000);
});
