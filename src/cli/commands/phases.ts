import { basename, join } from 'node:path';
import { oneLineText } from '../../core/errors.ts';
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
 * writes a partial result, and there are no transitions. A phase whose checkpoint cannot be read (missing, or
 * no matrix analysed for errors) is marked broken in the report, and the others go on (exit code 2).
 */
export async function phasesCommand(args: ParsedArgs, stop: ScanStop): Promise<{ errors: number; cancelled: boolean }> {
  if (args.positional.length < 2) throw new UsageError('phases needs two or more checkpoints, in training order');
  const settings = scanSettings(args);
  const given = percents(args, []);
  await prepareOutputFolder(settings.out);
  const plan = args.positional.map((path, i) => ({ path, percent: given[i] ?? given[given.length - 1] ?? defaultPercent(i) }));
  const pool = cliScanPool(settings.engine, settings.threads, settings.memoryBudget);
  const phases: { name: string; percent: number; records: Parameters<typeof spectrumModules>[0]; broken?: string }[] = [];
  const vectorTypes = new Set<string>();
  let errors = 0;
  try {
    for (const [i, step] of plan.entries()) {
      const result = await scanCheckpoint([step.path], { ...settings, percents: [step.percent], modelName: undefined }, stop, pool).catch(
        (e: unknown) => {
          if (e instanceof UsageError) throw e;
          return oneLineText(e instanceof Error ? e.message : String(e));
        },
      );
      if (typeof result === 'string') {
        process.stderr.write(`error: ${result}\n`);
        errors++;
        phases.push({
          name: basename(step.path).replace(/\.(safetensors|gguf)$/i, ''),
          percent: step.percent,
          records: [],
          broken: result,
        });
        continue;
      }
      const dir = join(settings.out, `phase-${i + 1}-${result.model.replace(/[^\w.-]+/g, '-')}`);
      await writeResults(result, { ...settings, out: dir, percents: [step.percent] });
      for (const r of result.records) if (r.vector && r.spectrumType !== null) vectorTypes.add(r.spectrumType);
      errors += result.errors.length;
      // nothing analysed, for errors: no selection to count (its errors are in its folder's metrics.json)
      const unread = result.records.length === 0 && result.errors.length > 0 && !result.cancelled;
      const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more errors)` : '';
      phases.push({
        name: result.model,
        percent: step.percent,
        records: result.records,
        ...(unread ? { broken: `${result.errors[0].message}${more}` } : {}),
      });
      if (result.cancelled) return { errors, cancelled: true };
    }
  } finally {
    await pool.close();
  }
  // transitions run between the phases that were read: a broken phase is skipped over
  const read = phases.filter((p) => p.broken === undefined);
  const selections = planSelections(
    read.map((p) => ({ entries: spectrumEntries(spectrumModules(p.records, settings.variant)), percent: p.percent })),
  );
  const summaries: PhaseSummary[] = phases.map((p) =>
    p.broken !== undefined
      ? { name: p.name, percent: p.percent, selection: [], transition: null, broken: p.broken }
      : { name: p.name, percent: p.percent, ...selections[read.indexOf(p)] },
  );
  await writeFilesAtomically(settings.out, [
    { name: 'transitions.json', text: transitionsJson(summaries) },
    { name: 'transitions.md', text: transitionsMarkdown(summaries, vectorTypes) },
  ]);
  const broken = phases.length - read.length;
  process.stderr.write(
    `wrote ${read.length} phases${broken ? ` (${broken} broken)` : ''} and transitions.md / transitions.json in ${settings.out}\n`,
  );
  return { errors, cancelled: false };
}
