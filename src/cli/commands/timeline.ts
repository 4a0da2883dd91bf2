import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { errorRecord, oneLineText, type ErrorRecord } from '../../core/errors.ts';
import { isWeightFile } from '../../core/formats/checkpoint.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { timelineCsv, timelineJson, timelineMarkdown } from '../../core/timeline/export.ts';
import { buildTimeline } from '../../core/timeline/model.ts';
import { discoverRun, orderedRun, scanOrder, type RunCandidate, type RunDiscovery } from '../../core/timeline/run.ts';
import { mergeHistory, parseTrainerState, type TrainerState } from '../../core/timeline/trainer-state.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import { markIncomplete, prepareOutputFolder, resultFolder, writeFilesAtomically } from '../output.ts';
import { cliScanPool } from '../pool.ts';
import type { ScanStop } from '../signals.ts';
import { scanCheckpoint, scanSettings } from './scan.ts';

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** A trainer_state.json larger than this is not read (its history is left out, with an error): a log of every step of a long run fits. */
const MAX_TRAINER_STATE_BYTES = 256 * 1024 * 1024;

/** A candidate's trainer_state.json beside its weights: the state, or null when there is none; a bad one is an error. */
async function trainerState(folder: string, errors: ErrorRecord[]): Promise<TrainerState | null> {
  const path = join(folder, 'trainer_state.json');
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return null;
  try {
    if (info.size > MAX_TRAINER_STATE_BYTES) throw new Error(`${info.size} bytes is more than the ${MAX_TRAINER_STATE_BYTES} read`);
    return parseTrainerState(await readFile(path, 'utf8'));
  } catch (e) {
    errors.push(errorRecord('READ_FAILED', path, undefined, `left out: ${e instanceof Error ? e.message : String(e)}`));
    return null;
  }
}

const SHARD = /-\d+-of-\d+\.safetensors$/i;

/** The checkpoints of a run folder: each sub-folder holding weights, and each weight file beside them. */
async function runFolderEntries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    // shards at the top are the final model's (no step), not checkpoints of their own
    if (entry.isFile() && isWeightFile(entry.name) && !SHARD.test(entry.name)) out.push(path);
    else if (entry.isDirectory() && (await readdir(path).catch(() => [])).some(isWeightFile)) out.push(path);
  }
  return out;
}

interface RunFound {
  name: string;
  discovery: RunDiscovery;
  /** by checkpoint path: its trainer_state.json, if it has one */
  states: Map<string, TrainerState>;
  errors: ErrorRecord[];
}

/**
 * The run the arguments name: one folder is a training run's output (its checkpoints ordered by step, from
 * trainer_state.json's global_step or their names); several paths are checkpoints in the order given.
 */
async function findRun(paths: readonly string[]): Promise<RunFound> {
  const errors: ErrorRecord[] = [];
  const states = new Map<string, TrainerState>();
  const single = paths.length === 1 ? await stat(paths[0]).catch(() => null) : null;
  const asRunFolder = single?.isDirectory() === true;
  const entries = asRunFolder ? await runFolderEntries(paths[0]) : [...paths];
  const candidates: RunCandidate[] = [];
  for (const path of entries) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new UsageError(`${path}: no such file or folder`, false);
    const state = info.isDirectory() ? await trainerState(path, errors) : null;
    if (state) states.set(path, state);
    // a run folder's checkpoints are named by their path inside it, so that the folder's own name gives no step
    candidates.push({ path: asRunFolder ? relative(paths[0], path) : path, globalStep: state?.globalStep ?? null });
  }
  const found = asRunFolder ? discoverRun(candidates) : orderedRun(candidates);
  const full = (p: string) => (asRunFolder ? join(paths[0], p) : p);
  const discovery: RunDiscovery = {
    ...found,
    checkpoints: found.checkpoints.map((c) => ({ ...c, path: full(c.path) })),
    left: found.left.map((l) => ({ ...l, path: full(l.path) })),
  };
  // the run is named after its folder (several checkpoints given: the folder of the first)
  return { name: basename(resolve(paths[0], asRunFolder ? '.' : '..')), discovery, states, errors };
}

/**
 * `timeline RUN_DIR --out DIR`: scan every checkpoint of a training run (newest and oldest first, then inwards)
 * through the scan's own path, on one pool, and write timeline.json, timeline.csv and timeline.md. Stopped early,
 * what is scanned is written, marked `"complete": false` with the checkpoints not scanned.
 */
export async function timelineCommand(args: ParsedArgs, stop: ScanStop): Promise<{ errors: number; cancelled: boolean; dir: string }> {
  if (args.positional.length === 0)
    throw new UsageError('timeline needs a training run: its output folder (checkpoint-<step>/ …), or its checkpoints in order');
  const settings = scanSettings(args);
  await prepareOutputFolder(settings.out);
  const run = await findRun(args.positional);
  const { checkpoints, left, notes } = run.discovery;
  if (checkpoints.length === 0) {
    const why = left.length > 0 ? `: ${left.map((l) => `${l.path} (${l.reason})`).join('; ')}` : '';
    throw new UsageError(`no checkpoints to follow in ${args.positional.join(' ')}${why}`, false);
  }
  for (const note of notes) process.stderr.write(`note: ${oneLineText(note)}\n`);
  for (const l of left) process.stderr.write(`left out: ${oneLineText(`${l.path}: ${l.reason}`)}\n`);
  for (const e of run.errors) process.stderr.write(`error: ${e.message}\n`);

  const records: (MatrixRecord[] | null)[] = checkpoints.map(() => null);
  const errorsOf: ErrorRecord[][] = checkpoints.map(() => []);
  let cancelled = false;
  const pool = cliScanPool(settings.engine, settings.threads);
  try {
    for (const i of scanOrder(checkpoints.length)) {
      const c = checkpoints[i];
      const result = await scanCheckpoint([c.path], { ...settings, modelName: c.label }, stop, pool).catch((e: unknown) => {
        if (e instanceof UsageError) throw e;
        return e instanceof Error ? e.message : String(e);
      });
      if (typeof result === 'string') {
        // a checkpoint that cannot be opened is one error; the run goes on around it
        const error = errorRecord('NOT_A_CHECKPOINT', c.path, undefined, result);
        process.stderr.write(`error: ${error.message}\n`);
        errorsOf[i].push(error);
        continue;
      }
      // a scan names the file by its name (model.safetensors): the checkpoint says which one it is
      errorsOf[i].push(...result.errors.map((e) => ({ ...e, message: oneLineText(`${c.label}: ${e.message}`) })));
      if (result.cancelled) {
        cancelled = true; // a checkpoint scanned in part is not used: its column would mix steps' worth of matrices
        break;
      }
      // nothing analysed, for errors (a file that cannot be read): not scanned, its errors say why
      if (result.records.length === 0 && result.errors.length > 0) {
        process.stderr.write(`error: ${c.label}: not read (${count(errorsOf[i].length, 'error')}, in timeline.json)\n`);
        continue;
      }
      if (result.errors.length > 0) process.stderr.write(`${c.label}: ${count(result.errors.length, 'error')} (in timeline.json)\n`);
      // the timeline reads the metrics only: a run of many large checkpoints does not hold every spectrum
      records[i] = result.records.map((r) => ({ ...r, singularValues: null }));
    }
  } finally {
    await pool.close();
  }

  const timeline = buildTimeline(
    checkpoints.map((c, i) => ({ step: c.step, label: c.label, records: records[i] })),
    settings.variant,
  );
  const errors = [...run.errors, ...errorsOf.flat()];
  const report = {
    run: run.name,
    timeline,
    checkpoints: checkpoints.map((c, i) => ({ path: c.path, stepSource: c.stepSource, errors: errorsOf[i].length })),
    history: mergeHistory(checkpoints.map((c) => run.states.get(c.path)?.history ?? [])),
    variant: settings.variant,
    mode: settings.mode,
    errors,
    left,
    notes,
  };
  const json = timelineJson(report);
  const notScanned = checkpoints.filter((_, i) => records[i] === null).map((c) => c.label);
  const where = await resultFolder(settings.out, !cancelled, settings.force, 'timeline.json');
  if (where.note) process.stderr.write(`${where.note}\n`);
  await writeFilesAtomically(where.dir, [
    { name: 'timeline.json', text: cancelled ? markIncomplete(json, notScanned) : json },
    { name: 'timeline.csv', text: timelineCsv(timeline) },
    { name: 'timeline.md', text: timelineMarkdown(report) },
  ]);
  const scanned = records.filter((r) => r !== null).length;
  process.stderr.write(
    `${scanned} of ${checkpoints.length} checkpoints scanned, ${errors.length} errors; wrote timeline.json, timeline.csv and timeline.md in ${where.dir}\n`,
  );
  return { errors: errors.length, cancelled, dir: where.dir };
}
