import { writeDeltaCsv, writeDeltaJson } from '../../core/exports/delta-metrics.ts';
import { openCheckpoint } from '../../core/formats/checkpoint.ts';
import { modelName } from '../../core/naming/model-name.ts';
import { planDelta } from '../../core/scan/plan-delta.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import { fileSource } from '../file-source.ts';
import { resolveCheckpoint } from '../inputs.ts';
import { prepareOutputFolder, markIncomplete } from '../output.ts';
import type { ScanStop } from '../signals.ts';
import { fileRefs, runPlan, scanSettings, writeRunFiles, type CliScanResult } from './scan.ts';

/**
 * `compare A B --out DIR`: ΔW = W_B − W_A for every matrix the two checkpoints share (each a file or a
 * folder, resolved as `scan` does), analysed on the same worker pool, written as delta.json (and
 * delta.csv with --csv). Matrices that B does not change are listed as unchanged. Stopped early, it
 * writes what is done as scan does (delta.json `"complete": false`, a complete one kept unless --force).
 */
export async function compareCommand(args: ParsedArgs, stop: ScanStop): Promise<{ result: CliScanResult; files: string[]; dir: string }> {
  if (args.positional.length !== 2) throw new UsageError('compare needs two checkpoints: the earlier one (A) and the later one (B)');
  const settings = scanSettings(args);
  await prepareOutputFolder(settings.out);
  const [a, b] = await Promise.all(args.positional.map((p) => resolveCheckpoint([p])));
  const [sourcesA, sourcesB] = await Promise.all([a, b].map((side) => Promise.all([...side.paths.values()].map((p) => fileSource(p)))));
  try {
    const [prev, next] = (await Promise.all([openCheckpoint(sourcesA), openCheckpoint(sourcesB)])).map((c, i) => {
      const side = i === 0 ? a : b;
      return { ...c, name: modelName(c.config, side.folder, side.name) };
    });
    // Operands name their files by path: the two sides may share file names (model.safetensors).
    const [refsA, refsB] = [fileRefs(a.paths, sourcesA), fileRefs(b.paths, sourcesB)];
    const plan = planDelta(
      { ckpt: prev, refOf: (f) => refsA.get(f) ?? f },
      { ckpt: next, refOf: (f) => refsB.get(f) ?? f },
      settings.only ? { only: settings.only } : {},
    );
    const label = {
      name: `${prev.name} → ${next.name}`,
      errors: [...a.errors, ...prev.errors, ...b.errors, ...next.errors],
      missing: [...prev.missing, ...next.missing],
    };
    const result = await runPlan(label, plan, (file) => refsB.get(file)!, settings, stop);
    const delta = writeDeltaJson(result, { from: prev.name, to: next.name });
    const files = [
      { name: 'delta.json', text: result.cancelled ? markIncomplete(delta, result.notAnalysed) : delta },
      ...(settings.csv ? [{ name: 'delta.csv', text: writeDeltaCsv(result.records) }] : []),
    ];
    const dir = await writeRunFiles(settings.out, { files }, result, settings.force, 'delta.json');
    return { result, files: files.map((f) => f.name), dir };
  } finally {
    await Promise.all([...sourcesA, ...sourcesB].map((x) => x.close?.()));
  }
}
