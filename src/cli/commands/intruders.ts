import type { ErrorRecord } from '../../core/errors.ts';
import { openCheckpoint } from '../../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../../core/formats/read-tensor.ts';
import {
  INTRUDER_DEFAULTS,
  intrudersJson,
  intrudersTable,
  type IntruderMatrixReport,
  type IntruderSide,
} from '../../core/metrics/intruders.ts';
import { modelName } from '../../core/naming/model-name.ts';
import { isDeltaJob, planDelta, type DeltaJob } from '../../core/scan/plan-delta.ts';
import { intrudersOfJob, type TripletSolver } from '../../workers/intruders.ts';
import { choice, option, UsageError, type ParsedArgs } from '../args.ts';
import { fileSource } from '../file-source.ts';
import { resolveCheckpoint } from '../inputs.ts';
import { markIncomplete, prepareOutputFolder, writeFilesAtomically } from '../output.ts';
import type { ScanStop } from '../signals.ts';
import { fileRefs, scanSettings } from './scan.ts';

export interface IntruderSettings {
  k: number;
  threshold: number;
  side: IntruderSide;
}

/** `--k K` (a whole number ≥ 1), `--threshold E` (a cosine in (0, 1)), `--side left|right`: the paper's code's defaults otherwise. */
export function intruderSettings(args: ParsedArgs): IntruderSettings {
  const k = option(args, 'k');
  const threshold = option(args, 'threshold');
  const kValue = k === undefined ? INTRUDER_DEFAULTS.k : /^\d+$/.test(k) ? Number(k) : NaN;
  if (!(kValue >= 1 && kValue <= 100_000)) throw new UsageError(`--k must be a whole number of singular vectors from 1 (got "${k}")`);
  const tValue = threshold === undefined ? INTRUDER_DEFAULTS.threshold : /^(0?\.\d+|1(\.0*)?)$/.test(threshold) ? Number(threshold) : NaN;
  if (!(tValue > 0 && tValue <= 1))
    throw new UsageError(`--threshold must be a cosine above 0 and at most 1, e.g. 0.5 (got "${threshold}")`);
  return { k: kValue, threshold: tValue, side: choice(args, 'side', ['left', 'right'] as const, INTRUDER_DEFAULTS.side) };
}

export interface IntrudersOutcome {
  reports: IntruderMatrixReport[];
  errors: ErrorRecord[];
  cancelled: boolean;
  dir: string;
}

/**
 * `intruders BASE FINETUNED --only REGEX --out DIR`: for each matrix both checkpoints hold whose name
 * matches, the fine-tuned matrix's top k singular vectors and the largest |cosine| of each with the
 * base's singular vectors (a thin SVD of both, as the paper's code does). Writes intruders.json and
 * intruders.md. Matrices run one after another in this process: each needs two full SVDs, which is
 * why --only is required.
 */
export async function intrudersCommand(args: ParsedArgs, stop: ScanStop, solve: TripletSolver): Promise<IntrudersOutcome> {
  if (args.positional.length !== 2) throw new UsageError('intruders needs two checkpoints: the base and the fine-tuned one');
  if (option(args, 'only') === undefined)
    throw new UsageError(
      'intruders needs --only REGEX: each matrix takes two full SVDs, so name the ones to examine (e.g. --only "layers\\.2\\.mlp")',
    );
  const settings = scanSettings(args);
  const intruder = intruderSettings(args);
  await prepareOutputFolder(settings.out);
  const [a, b] = await Promise.all(args.positional.map((p) => resolveCheckpoint([p])));
  const [sourcesA, sourcesB] = await Promise.all([a, b].map((side) => Promise.all([...side.paths.values()].map((p) => fileSource(p)))));
  try {
    const [base, tuned] = (await Promise.all([openCheckpoint(sourcesA), openCheckpoint(sourcesB)])).map((c, i) => {
      const side = i === 0 ? a : b;
      return { ...c, name: modelName(c.config, side.folder, side.name) };
    });
    const [refsA, refsB] = [fileRefs(a.paths, sourcesA), fileRefs(b.paths, sourcesB)];
    const plan = planDelta(
      { ckpt: base, refOf: (f) => refsA.get(f) ?? f },
      { ckpt: tuned, refOf: (f) => refsB.get(f) ?? f },
      settings.only ? { only: settings.only } : {},
    );
    const jobs = plan.jobs.filter((j): j is DeltaJob => isDeltaJob(j) && !j.vector);
    const byRef = new Map([...sourcesA, ...sourcesB].map((s) => [s.ref, s]));
    const errors: ErrorRecord[] = [...a.errors, ...base.errors, ...b.errors, ...tuned.errors];
    const reports: IntruderMatrixReport[] = [];
    if (!settings.quiet)
      process.stderr.write(
        `${base.name} → ${tuned.name}: ${jobs.length} matrices, top ${intruder.k} ${intruder.side} singular vectors, threshold ${intruder.threshold}\n`,
      );
    if (jobs.length === 0 && plan.skipped.length > 0 && !settings.quiet)
      process.stderr.write(`none to examine: ${plan.skipped.length} left out (${plan.skipped[0].name}: ${plan.skipped[0].reason}, …)\n`);
    const done = new Set<string>();
    for (const [i, job] of jobs.entries()) {
      if (stop.signal.aborted) break;
      const outcome = await intrudersOfJob(
        job,
        (o) => readTensorAsF32(byRef.get(o.ref)!, o.tensor, { signal: stop.now }),
        solve,
        intruder,
        stop.now,
      );
      if (outcome.ok) {
        reports.push(outcome.report);
        done.add(job.name);
        if (!settings.quiet)
          process.stderr.write(`[${i + 1}/${jobs.length}] ${job.name}: ${outcome.report.intruders} of ${outcome.report.k} intruders\n`);
      } else if (outcome.error.code !== 'ABORTED') {
        errors.push(outcome.error);
        done.add(job.name);
        process.stderr.write(`error: ${outcome.error.message}\n`);
      }
    }
    const cancelled = stop.signal.aborted && done.size < jobs.length;
    const pair = { base: base.name, tuned: tuned.name };
    const json = intrudersJson(pair, intruder, reports, errors);
    const notDone = jobs.filter((j) => !done.has(j.name)).map((j) => j.name);
    await writeFilesAtomically(settings.out, [
      { name: 'intruders.json', text: cancelled ? markIncomplete(json, notDone) : json },
      { name: 'intruders.md', text: intrudersTable(pair, reports) },
    ]);
    return { reports, errors, cancelled, dir: settings.out };
  } finally {
    await Promise.all([...sourcesA, ...sourcesB].map((x) => x.close?.()));
  }
}
