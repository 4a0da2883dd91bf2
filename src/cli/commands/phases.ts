import { join } from 'node:path';
import { spectrumEntries } from '../../core/exports/spectrum-files.ts';
import { transitionsJson, transitionsMarkdown, type PhaseSummary } from '../../core/exports/transitions-report.ts';
import { spectrumModules } from '../../core/scan/result.ts';
import { defaultPercent, planSelections } from '../../core/selection/phases.ts';
import { percents, UsageError, type ParsedArgs } from '../args.ts';
import { prepareOutputFolder, writeFilesAtomically } from '../output.ts';
import { cliScanPool } from '../pool.ts';
import type { ScanStop } from '../signals.ts';
import { scanCheckpoint, scanSettings, writeResults } from './scan.ts';

/**
 * `phases base.safetensors p1.safetensors p2.safetensors --percent 25 20 15 --out DIR`: every
 * checkpoint's files (at its phase's percent) in DIR/phase-N-<name>/, and the transitions between
 * consecutive phases as Markdown and JSON. Stopped early, the phase in progress is written as scan
 * writes a partial result, and there are no transitions.
 */
export async function phasesCommand(args: ParsedArgs, stop: ScanStop): Promise<{ errors: number; cancelled: boolean }> {
  if (args.positional.length < 2) throw new UsageError('phases needs two or more checkpoints, in training order');
  const settings = scanSettings(args);
  const given = percents(args, []);
  await prepareOutputFolder(settings.out);
  const plan = args.positional.map((path, i) => ({ path, percent: given[i] ?? given[given.length - 1] ?? defaultPercent(i) }));
  const pool = cliScanPool(settings.engine, settings.threads);
  const phases: { name: string; percent: number; records: Parameters<typeof spectrumModules>[0] }[] = [];
  const vectorTypes = new Set<string>();
  let errors = 0;
  try {
    for (const [i, step] of plan.entries()) {
      const result = await scanCheckpoint([step.path], { ...settings, percents: [step.percent], modelName: undefined }, stop, pool);
      const dir = join(settings.out, `phase-${i + 1}-${result.model.replace(/[^\w.-]+/g, '-')}`);
      await writeResults(result, { ...settings, out: dir, percents: [step.percent] });
      for (const r of result.records) if (r.vector && r.spectrumType !== null) vectorTypes.add(r.spectrumType);
      errors += result.errors.length;
      phases.push({ name: result.model, percent: step.percent, records: result.records });
      if (result.cancelled) return { errors, cancelled: true };
    }
  } finally {
    await pool.close();
  }
  const selections = planSelections(
    phases.map((p) => ({ entries: spectrumEntries(spectrumModules(p.records, settings.variant)), percent: p.percent })),
  );
  const summaries: PhaseSummary[] = phases.map((p, i) => ({ name: p.name, percent: p.percent, ...selections[i] }));
  await writeFilesAtomically(settings.out, [
    { name: 'transitions.json', text: transitionsJson(summaries) },
    { name: 'transitions.md', text: transitionsMarkdown(summaries, vectorTypes) },
  ]);
  process.stderr.write(`wrote ${phases.length} phases and transitions.md / transitions.json in ${settings.out}\n`);
  return { errors, cancelled: false };
}
