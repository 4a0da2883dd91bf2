import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDeltaCsv, writeDeltaJson } from '../../core/exports/delta-metrics.ts';
import { openCheckpoint } from '../../core/formats/checkpoint.ts';
import { modelName } from '../../core/naming/model-name.ts';
import { planDelta } from '../../core/scan/plan-delta.ts';
import type { RunScanResult } from '../../core/scan/run.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import { fileSource } from '../file-source.ts';
import { resolveCheckpoint } from '../inputs.ts';
import { runPlan, scanSettings } from './scan.ts';

/**
 * `compare A B --out DIR`: ΔW = W_B − W_A for every matrix the two checkpoints share (each a file or a
 * folder, resolved as `scan` does), analysed on the same worker pool, written as delta.json (and
 * delta.csv with --csv). Matrices that B does not change are listed as unchanged.
 */
export async function compareCommand(args: ParsedArgs, signal: AbortSignal): Promise<{ result: RunScanResult; files: string[] }> {
  if (args.positional.length !== 2) throw new UsageError('compare needs two checkpoints: the earlier one (A) and the later one (B)');
  const settings = scanSettings(args);
  const [a, b] = await Promise.all(args.positional.map((p) => resolveCheckpoint([p])));
  const [sourcesA, sourcesB] = await Promise.all([a, b].map((side) => Promise.all([...side.paths.values()].map((p) => fileSource(p)))));
  try {
    const [prev, next] = (await Promise.all([openCheckpoint(sourcesA), openCheckpoint(sourcesB)])).map((c, i) => {
      const side = i === 0 ? a : b;
      return { ...c, name: modelName(c.config, side.folder, side.name) };
    });
    // Operands name their files by path: the two sides may share file names (model.safetensors).
    const plan = planDelta(
      { ckpt: prev, refOf: (f) => a.paths.get(f) ?? f },
      { ckpt: next, refOf: (f) => b.paths.get(f) ?? f },
      settings.only ? { only: settings.only } : {},
    );
    const label = {
      name: `${prev.name} → ${next.name}`,
      errors: [...prev.errors, ...next.errors],
      missing: [...prev.missing, ...next.missing],
    };
    const result = await runPlan(label, plan, (file) => b.paths.get(file)!, settings, signal);
    await mkdir(settings.out, { recursive: true });
    const files = [
      { name: 'delta.json', text: writeDeltaJson(result, { from: prev.name, to: next.name }) },
      ...(settings.csv ? [{ name: 'delta.csv', text: writeDeltaCsv(result.records) }] : []),
    ];
    for (const f of files) await writeFile(join(settings.out, f.name), f.text);
    return { result, files: files.map((f) => f.name) };
  } finally {
    await Promise.all([...sourcesA, ...sourcesB].map((x) => x.close?.()));
  }
}
