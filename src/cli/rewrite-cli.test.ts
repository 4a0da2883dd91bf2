import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { followStderr } from '../../test-fixtures/builders/watched-child.ts';
import { plantedPair } from '../../test-fixtures/builders/planted.ts';
import type { DeltaRow } from '../core/exports/delta-metrics.ts';
import type { ExtractReport } from '../core/rewrite/extract-lora.ts';
import type { RewindReport } from '../core/rewrite/rewind.ts';
import type { TruncateReport } from '../core/rewrite/truncate.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);
const tmp = () => mkdtempSync(join(tmpdir(), 'sw-rewrite-'));
const json = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const LLAMA = { model_type: 'llama', hidden_size: 16, num_attention_heads: 4 };
const UP = 'model.layers.0.mlp.up_proj.weight';

/** A checkpoint folder on disk from a fixture's files. */
function folder(files: Map<string, Uint8Array>): string {
  const dir = tmp();
  for (const [n, b] of files) writeFileSync(join(dir, n), b);
  return dir;
}

describe('extract-lora, rewind and truncate on the demo', () => {
  it('writes an adapter, a rewound and a truncated checkpoint that our CLI opens again', async () => {
    const out = tmp();
    const lora = await cli([
      'extract-lora',
      demo('phase0-base'),
      demo('phase1-25pct'),
      '--energy',
      '0.9',
      '--out',
      join(out, 'lora'),
      '--quiet',
    ]);
    expect(lora.stderr).not.toMatch(/error/);
    expect(lora.code).toBe(0);
    const extracted = json<ExtractReport>(join(out, 'lora', 'extract-lora-report.json'));
    expect(extracted.modules.length).toBeGreaterThan(0);
    for (const m of extracted.modules) {
      expect(m.kept_energy).toBeGreaterThanOrEqual(0.9);
      // Eckart–Young: the residual of a truncation is exactly the energy left out
      expect(m.relative_error).toBeCloseTo(Math.sqrt(1 - m.kept_energy), 5);
    }
    const scanned = await cli(['scan', join(out, 'lora'), '--out', join(out, 'scan-lora'), '--threads', '1']);
    expect(scanned.code).toBe(0);
    expect(scanned.stderr).toMatch(new RegExp(`${extracted.modules.length} matrices analysed, 0 errors`));

    const rewound = await cli(['rewind', demo('phase0-base'), demo('phase1-25pct'), '--heads', '15%', '--out', join(out, 'rewind')]);
    expect(rewound.code).toBe(0);
    // 16 layers × (4 q + 4 k + 4 v + 4 o heads) = 256; 15 % of them is 38
    expect(rewound.stderr).toMatch(/38 of 256 heads chosen/);
    const report = json<RewindReport>(join(out, 'rewind', 'rewind-report.json'));
    const delta = await cli(['compare', demo('phase0-base'), join(out, 'rewind'), '--out', join(out, 'delta'), '--threads', '1']);
    expect(delta.code).toBe(0);
    const rows = json<{ matrices: DeltaRow[] }>(join(out, 'delta', 'delta.json')).matrices;
    for (const h of report.heads) {
      const row = rows.find((r) => r.name === h.tensor)!;
      // ΔW against the base is exactly zero on a rewound head (a matrix with every head rewound is unchanged)
      if (row.unchanged) expect(row.frobenius).toBe(0);
      else expect(row.head_shares![h.head]).toBe(0);
    }

    const truncated = await cli([
      'truncate',
      demo('phase0-base'),
      demo('phase1-25pct'),
      '--energy',
      '0.95',
      '--out',
      join(out, 'trunc'),
      '--quiet',
    ]);
    expect(truncated.code).toBe(0);
    const t = json<TruncateReport>(join(out, 'trunc', 'truncate-report.json'));
    expect(t.matrices.length).toBe(extracted.modules.length);
    const rescanned = await cli(['scan', join(out, 'trunc'), '--out', join(out, 'scan-trunc'), '--threads', '1']);
    expect(rescanned.stderr).toMatch(/147 matrices analysed, 0 errors/);
    expect(readdirSync(join(out, 'trunc')).sort()).toEqual([
      'config.json',
      'phase1-25pct.safetensors',
      'truncate-report.json',
      'truncate-report.md',
    ]);
  }, 300_000);
});

describe('writing safely', () => {
  const pair = plantedPair([{ name: UP, rows: 32, cols: 16, sigma: [2, 1] }], { config: LLAMA, dtype: 'BF16' });
  const [base, ft] = [folder(pair.base), folder(pair.ft)];

  it('does not replace an existing output without --force', async () => {
    const out = tmp();
    expect((await cli(['truncate', base, ft, '--rank', '1', '--out', out])).code).toBe(0);
    const before = readFileSync(join(out, 'model.safetensors'));
    const again = await cli(['truncate', base, ft, '--rank', '2', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: ${join(out, 'model.safetensors')} exists (--force replaces it)\n`);
    expect(readFileSync(join(out, 'model.safetensors'))).toEqual(before);
    expect((await cli(['truncate', base, ft, '--rank', '2', '--out', out, '--force'])).code).toBe(0);
    expect(readFileSync(join(out, 'model.safetensors'))).not.toEqual(before);
  }, 60_000);

  it('refuses shapes that disagree and a missing tensor in one line naming the file and the tensor, writing nothing', async () => {
    const other = folder(plantedPair([{ name: UP, rows: 24, cols: 16 }], { config: LLAMA, dtype: 'BF16' }).ft);
    const out = tmp();
    const shapes = await cli(['extract-lora', base, other, '--rank', '1', '--out', out]);
    expect(shapes.code).toBe(2);
    expect(shapes.stderr).toBe(
      `error: model.safetensors: tensor "${UP}": shape [24, 16] here but [32, 16] in the base (model.safetensors)\n`,
    );
    const more = folder(
      plantedPair(
        [
          { name: UP, rows: 32, cols: 16 },
          { name: 'model.layers.0.mlp.gate_proj.weight', rows: 32, cols: 16 },
        ],
        { config: LLAMA, dtype: 'BF16' },
      ).ft,
    );
    const missing = await cli(['rewind', base, more, '--matrices', 'up_proj', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'error: model.safetensors: tensor "model.layers.0.mlp.gate_proj.weight": the base lacks this weight of model.safetensors\n',
    );
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('an output folder that cannot be written is one line', async () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    const r = await cli(['extract-lora', base, ft, '--rank', '1', '--out', join(file, 'lora')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: --out ${join(file, 'lora')} is under ${file}, which is a file\n`);
  }, 60_000);

  // a small tmpfs fills up for real; mounting one needs root (CI without it uses the injected ENOSPC sink of the core tests)
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m]);
  });
  function smallDisk(bytes: number, readOnly = false): string | null {
    const dir = tmp();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}${readOnly ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      return null;
    }
    mounts.push(dir);
    return dir;
  }
  const canMount = smallDisk(4096) !== null;

  it.skipIf(!canMount)(
    'a full disk: one line naming the file, and no partial or temporary file left (a 64 KiB tmpfs)',
    async () => {
      const disk = smallDisk(64 * 1024)!;
      const out = join(disk, 'rewound');
      const r = await cli(['rewind', demo('phase0-base'), demo('phase1-25pct'), '--heads', '15%', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`error: ${out}/phase1-25pct.safetensors: could not be written: no space left on the device \\(ENOSPC\\)\\n$`),
      );
      expect(readdirSync(out)).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!canMount)(
    'a read-only output folder: one line',
    async () => {
      const disk = smallDisk(64 * 1024, true)!;
      const r = await cli(['extract-lora', base, ft, '--rank', '1', '--out', disk]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error: --out ${disk} is not a folder this user can write to: read-only file system (EROFS)\n`);
    },
    60_000,
  );

  it('Ctrl-C stops the write and leaves nothing in --out', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [bin, 'truncate', demo('phase0-base'), demo('phase1-25pct'), '--energy', '0.95', '--out', out], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const watched = followStderr(child, 'truncate', 120_000);
    await watched.waitFor(/^\[1\] /m);
    child.kill('SIGINT');
    expect(await watched.exited).toBe(130);
    expect(watched.stderr()).toMatch(/stopped: nothing written/);
    expect(readdirSync(out)).toEqual([]);
  }, 150_000);

  it('--heads on a model without separate attention projections says so', async () => {
    const gpt2 = plantedPair([{ name: 'transformer.h.0.attn.c_attn.weight', rows: 16, cols: 48, sigma: [1] }], {
      config: { model_type: 'gpt2', n_embd: 16, n_head: 2 },
    });
    const out = tmp();
    const r = await cli(['rewind', folder(gpt2.base), folder(gpt2.ft), '--heads', '10%', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: rewind: \S+ has no attention heads to choose from .*--matrices REGEX rewinds whole weights\n$/);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('a heads file names heads that exist', async () => {
    const out = tmp();
    const heads = join(tmp(), 'heads.json');
    writeFileSync(
      heads,
      JSON.stringify({
        format: 'spectral-workbench-heads',
        version: 1,
        heads: [{ tensor: 'model.layers.0.self_attn.q_proj.weight', head: 9 }],
      }),
    );
    const r = await cli(['rewind', demo('phase0-base'), demo('phase1-25pct'), '--heads-file', heads, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${heads}: tensor "model.layers.0.self_attn.q_proj.weight": heads[0]: head 9 is outside 0–3\n`);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);
});
