import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { ExportFile } from '../../core/exports/spectrum-bundle.ts';
import { errorRecord, oneLineText, type ErrorRecord } from '../../core/errors.ts';
import { isWeightFile } from '../../core/formats/checkpoint.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { timelineCsv, timelineJson, timelineMarkdown } from '../../core/timeline/export.ts';
import { buildTimeline } from '../../core/timeline/model.ts';
import { discoverRun, orderedRun, scanOrder, type RunCandidate, type RunCheckpoint, type RunDiscovery } from '../../core/timeline/run.ts';
import { mergeHistory, parseTrainerState, type TrainerState } from '../../core/timeline/trainer-state.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import { markIncomplete, prepareOutputFolder, resultFolder, writeFilesAtomically } from '../output.ts';
import { cliScanPool } from '../pool.ts';
import type { ScanStop } from '../signals.ts';
import { scanCheckpoint, scanSettings, type CliScanResult, type ScanSettings } from './scan.ts';

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

/** A checkpoint in a run folder: a sub-folder holding weights, or a weight file beside them. */
export interface RunFolderEntry {
  name: string;
  path: string;
  folder: boolean;
}

/**
 * The checkpoints of a run folder, by name: each sub-folder holding weights, and each weight file beside them
 * (`timeline` and `watch` both follow a run folder through this list).
 */
export async function runFolderEntries(dir: string): Promise<RunFolderEntry[]> {
  const out: RunFolderEntry[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    // shards at the top are the final model's (no step), not checkpoints of their own
    if (entry.isFile() && isWeightFile(entry.name) && !SHARD.test(entry.name)) out.push({ name: entry.name, path, folder: false });
    else if (entry.isDirectory() && (await readdir(path).catch(() => [])).some(isWeightFile))
      out.push({ name: entry.name, path, folder: true });
  }
  return out;
}

export interface RunFound {
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
  const single = paths.length === 1 ? await stat(paths[0]).catch(() => null) : null;
  if (single?.isDirectory() === true)
    return runOfFolder(
      paths[0],
      (await runFolderEntries(paths[0])).map((e) => e.path),
    );
  return runOf(null, paths);
}

/**
 * A run folder's run made of the given entries of it (`watch`: the checkpoints scanned so far), as `timeline` finds
 * it; with `keepMissing`, an entry gone since is kept, with the step its name gives.
 */
export function runOfFolder(dir: string, entries: readonly string[], keepMissing = false): Promise<RunFound> {
  return runOf(dir, entries, keepMissing);
}

/** The run of `entries`: inside the run folder `dir` ordered by step, else (dir null) in the order given. */
async function runOf(dir: string | null, entries: readonly string[], keepMissing = false): Promise<RunFound> {
  const errors: ErrorRecord[] = [];
  const states = new Map<string, TrainerState>();
  const candidates: RunCandidate[] = [];
  for (const path of entries) {
    const info = await stat(path).catch(() => null);
    if (!info && !keepMissing) throw new UsageError(`${path}: no such file or folder`, false);
    const state = info?.isDirectory() ? await trainerState(path, errors) : null;
    if (state) states.set(path, state);
    // a run folder's checkpoints are named by their path inside it, so that the folder's own name gives no step
    candidates.push({ path: dir !== null ? relative(dir, path) : path, globalStep: state?.globalStep ?? null });
  }
  const found = dir !== null ? discoverRun(candidates) : orderedRun(candidates);
  const full = (p: string) => (dir !== null ? join(dir, p) : p);
  const discovery: RunDiscovery = {
    ...found,
    checkpoints: found.checkpoints.map((c) => ({ ...c, path: full(c.path) })),
    left: found.left.map((l) => ({ ...l, path: full(l.path) })),
  };
  // the run is named after its folder (several checkpoints given: the folder of the first)
  return { name: basename(dir !== null ? resolve(dir) : resolve(entries[0], '..')), discovery, states, errors };
}

/** What a checkpoint's scan gives the timeline: its matrices' metrics (null: not scanned) and its errors. */
export interface CheckpointOutcome {
  records: MatrixRecord[] | null;
  /** each message starts with the checkpoint's label */
  errors: ErrorRecord[];
}

/**
 * A finished scan of checkpoint `c` as the timeline keeps it, or the message of a scan that could not open it.
 * Only the metrics are kept: a run of many large checkpoints does not hold every spectrum.
 */
export function checkpointOutcome(c: RunCheckpoint, scan: Pick<CliScanResult, 'records' | 'errors'> | string): CheckpointOutcome {
  // a checkpoint that cannot be opened is one error; the run goes on around it
  if (typeof scan === 'string') return { records: null, errors: [errorRecord('NOT_A_CHECKPOINT', c.path, undefined, scan)] };
  // a scan names the file by its name (model.safetensors): the checkpoint says which one it is
  const errors = scan.errors.map((e) => ({ ...e, message: oneLineText(`${c.label}: ${e.message}`) }));
  // nothing analysed, for errors (a file that cannot be read): not scanned, its errors say why
  if (scan.records.length === 0 && scan.errors.length > 0) return { records: null, errors };
  return { records: scan.records.map((r) => (r.singularValues === null ? r : { ...r, singularValues: null })), errors };
}

/**
 * timeline.json, timeline.csv and timeline.md of `run` from its checkpoints' outcomes (null: not scanned), in the
 * order of its checkpoints; `cancelled` marks timeline.json incomplete, naming the checkpoints not scanned.
 */
export function timelineFiles(
  run: RunFound,
  outcomes: readonly (CheckpointOutcome | null)[],
  s: Pick<ScanSettings, 'variant' | 'mode'>,
  cancelled: boolean,
): { files: ExportFile[]; scanned: number; errors: number } {
  const { checkpoints, left, notes } = run.discovery;
  const records = checkpoints.map((_, i) => outcomes[i]?.records ?? null);
  const errorsOf = checkpoints.map((_, i) => outcomes[i]?.errors ?? []);
  const timeline = buildTimeline(
    checkpoints.map((c, i) => ({ step: c.step, label: c.label, records: records[i] })),
    s.variant,
  );
  const errors = [...run.errors, ...errorsOf.flat()];
  const report = {
    run: run.name,
    timeline,
    checkpoints: checkpoints.map((c, i) => ({ path: c.path, stepSource: c.stepSource, errors: errorsOf[i].length })),
    history: mergeHistory(checkpoints.map((c) => run.states.get(c.path)?.history ?? [])),
    variant: s.variant,
    mode: s.mode,
    errors,
    left,
    notes,
  };
  const json = timelineJson(report);
  const notScanned = checkpoints.filter((_, i) => records[i] === null).map((c) => c.label);
  const files = [
    { name: 'timeline.json', text: cancelled ? markIncomplete(json, notScanned) : json },
    { name: 'timeline.csv', text: timelineCsv(timeline) },
    { name: 'timeline.md', text: timelineMarkdown(report) },
  ];
  return { files, scanned: records.filter((r) => r !== null).length, errors: errors.length };
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

  const outcomes: (CheckpointOutcome | null)[] = checkpoints.map(() => null);
  let cancelled = false;
  const pool = cliScanPool(settings.engine, settings.threads, settings.memoryBudget);
  try {
    for (const i of scanOrder(checkpoints.length)) {
      const c = checkpoints[i];
      const result = await scanCheckpoint([c.path], { ...settings, modelName: c.label }, stop, pool).catch((e: unknown) => {
        if (e instanceof UsageError) throw e;
        return e instanceof Error ? e.message : String(e);
      });
      if (typeof result !== 'string' && result.cancelled) {
        // a checkpoint scanned in part is not used: its column would mix steps' worth of matrices
        outcomes[i] = { records: null, errors: checkpointOutcome(c, { records: [], errors: result.errors }).errors };
        cancelled = true;
        break;
      }
      const outcome = (outcomes[i] = checkpointOutcome(c, result));
      if (typeof result === 'string') process.stderr.write(`error: ${outcome.errors[0].message}\n`);
      else if (outcome.records === null)
        process.stderr.write(`error: ${c.label}: not read (${count(outcome.errors.length, 'error')}, in timeline.json)\n`);
      else if (outcome.errors.length > 0) process.stderr.write(`${c.label}: ${count(outcome.errors.length, 'error')} (in timeline.json)\n`);
    }
  } finally {
    await pool.close();
  }

  const { files, scanned, errors } = timelineFiles(run, outcomes, settings, cancelled);
  const where = await resultFolder(settings.out, !cancelled, settings.force, 'timeline.json');
  if (where.note) process.stderr.write(`${where.note}\n`);
  await writeFilesAtomically(where.dir, files);
  process.stderr.write(
    `${scanned} of ${checkpoints.length} checkpoints scanned, ${errors} errors; wrote timeline.json, timeline.csv and timeline.md in ${where.dir}\n`,
  );
  return { errors, cancelled, dir: where.dir };
}
