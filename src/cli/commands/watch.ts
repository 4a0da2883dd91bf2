import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ScanError } from '../../core/errors.ts';
import { writeMetricsCsv } from '../../core/exports/csv.ts';
import { writeMetricsJson } from '../../core/exports/metrics-json.ts';
import { isWeightFile } from '../../core/formats/checkpoint.ts';
import { MAX_HEADER_BYTES } from '../../core/formats/safetensors.ts';
import { formatBytes } from '../../core/scan/progress.ts';
import { seconds, UsageError, type ParsedArgs } from '../args.ts';
import { markIncomplete, prepareOutputFolder, writeFilesAtomically } from '../output.ts';
import { whenAborted, type ScanStop } from '../signals.ts';
import { checkpointOutcome, runFolderEntries, runOfFolder, timelineFiles, type RunFolderEntry } from './timeline.ts';
import { scanCheckpoint, scanSettings, writeResults, writeRunFiles, type CliScanResult, type ScanSettings } from './scan.ts';

/** A checkpoint in a training run's output folder (as `timeline` lists it), with the files that say whether it is complete. */
interface Candidate extends RunFolderEntry {
  /** its weight files, index and the trainer's marker (for a folder, by name) */
  files: string[];
}

const INDEX = /\.safetensors\.index\.json$/;
/** The Hugging Face Trainer writes trainer_state.json into checkpoint-N/ after the weights: its completion marker. */
const TRAINER_MARKER = 'trainer_state.json';

async function candidates(dir: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const entry of await runFolderEntries(dir)) {
    if (!entry.folder) {
      out.push({ ...entry, name: entry.name.replace(/\.(safetensors|gguf)$/i, ''), files: [entry.name] });
      continue;
    }
    const files = await readdir(entry.path).catch(() => [] as string[]); // removed since (a trainer's save_total_limit)
    const weights = files.filter((f) => isWeightFile(f) || INDEX.test(f) || f === TRAINER_MARKER);
    if (weights.some((f) => f !== TRAINER_MARKER)) out.push({ ...entry, files: weights.sort() });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/** Sizes and modified times of a checkpoint's files: a checkpoint being written or rewritten changes it. */
async function signature(c: Candidate): Promise<string | null> {
  const parts: string[] = [];
  for (const f of c.files) {
    const s = await stat(c.folder ? join(c.path, f) : c.path).catch(() => null);
    if (!s) return null; // gone since it was listed
    parts.push(`${f}:${s.size}:${s.mtimeMs}`);
  }
  return parts.join('|');
}

/**
 * Why a safetensors file is not complete yet, or null when it is: its header is all there and its data
 * reaches the end of every byte range the header names. A header that cannot be parsed once all there is
 * not a file being written but a broken one: the scan says what is wrong with it.
 */
async function safetensorsShortfall(path: string): Promise<string | null> {
  const name = basename(path);
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return `${name} is not there yet`;
  try {
    const { size } = await handle.stat();
    if (size < 8) return `${name}: its header is not written yet`;
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES) return null;
    if (size < 8 + headerLength) return `${name}: its header is being written`;
    const header = Buffer.alloc(headerLength);
    await handle.read(header, 0, headerLength, 8);
    let entries: unknown;
    try {
      entries = JSON.parse(header.toString('utf8'));
    } catch {
      return null;
    }
    if (typeof entries !== 'object' || entries === null) return null;
    let end = 0;
    for (const [key, entry] of Object.entries(entries)) {
      const offsets: unknown = key === '__metadata__' ? undefined : (entry as { data_offsets?: unknown } | null)?.data_offsets;
      if (Array.isArray(offsets) && typeof offsets[1] === 'number') end = Math.max(end, offsets[1]);
    }
    const data = size - 8 - headerLength;
    return data >= end ? null : `${name} holds ${formatBytes(data)} of its ${formatBytes(end)} of weights`;
  } finally {
    await handle.close();
  }
}

/**
 * Why a checkpoint is not complete yet, or null when it is: the trainer's marker in checkpoint-N/, or
 * else every weight file complete: the shards its index names, or those its names promise ("-00002-of-00004").
 */
async function shortfall(c: Candidate): Promise<string | null> {
  if (!c.folder) return /\.safetensors$/i.test(c.path) ? safetensorsShortfall(c.path) : null;
  if (/^checkpoint-\d+$/.test(c.name) && c.files.includes(TRAINER_MARKER)) return null;
  const index = c.files.find((f) => INDEX.test(f));
  let shards = c.files.filter((f) => f.endsWith('.safetensors'));
  if (index) {
    let map: unknown;
    try {
      map = (JSON.parse(await readFile(join(c.path, index), 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch {
      return `${index} is being written`;
    }
    if (typeof map !== 'object' || map === null) return null; // a broken index: the scan says so
    shards = [...new Set(Object.values(map).filter((f): f is string => typeof f === 'string'))];
  } else {
    const numbered = shards.map((f) => /-(\d+)-of-(\d+)\.safetensors$/.exec(f)).filter((m) => m !== null);
    if (numbered.length > 0 && numbered.length < Number(numbered[0][2]))
      return `${numbered.length} of its ${numbered[0][2]} shards are there`;
  }
  for (const f of shards) {
    const why = await safetensorsShortfall(join(c.path, basename(f)));
    if (why) return why;
  }
  return null;
}

/**
 * `watch DIR --percent 20 --out OUT`: scan each checkpoint that appears in a training run's output
 * folder once it is complete (its files held still between two looks, and every byte its headers name
 * written, or the trainer's marker), scan it again when it changes, and write the next phase's YAML. A
 * scan whose checkpoint changed under it writes nothing and waits for it to hold still. `--once` scans
 * what is complete now and exits. Ctrl-C while waiting ends the watch (exit 0); during a scan, what is
 * done goes where `scan` puts a stopped scan's metrics.json, marked incomplete, with no YAML (exit 130).
 */
export async function watchCommand(args: ParsedArgs, stop: ScanStop): Promise<number> {
  if (args.positional.length !== 1)
    throw new UsageError('watch needs one folder: the training run output (e.g. checkpoint-500/, checkpoint-1000/)');
  const dir = args.positional[0];
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const settings = scanSettings(args);
  const interval = seconds(args, 'interval', 10) * 1000;
  await prepareOutputFolder(settings.out);
  const once = args.options.has('once');
  /** the signature each checkpoint had when its scan was written, and at the last look */
  const scanned = new Map<string, string>();
  const lastLook = new Map<string, string>();
  const waitingSaid = new Map<string, string>();
  /** each checkpoint's last complete scan (its metrics only), or why it could not be opened: the timeline's columns */
  const scans = new Map<string, ScannedCheckpoint>();
  let errors = 0;
  process.stderr.write(`watching ${dir} for new checkpoints (every ${interval / 1000}s; Ctrl-C to stop)\n`);
  while (!stop.signal.aborted) {
    for (const c of await candidates(dir)) {
      if (stop.signal.aborted) break;
      const before = await signature(c);
      if (before === null || scanned.get(c.path) === before) continue;
      const previous = lastLook.get(c.path);
      lastLook.set(c.path, before);
      if (!once && previous !== before) continue; // new or still changing: look again next time
      const why = await shortfall(c);
      if (why) {
        if (waitingSaid.get(c.path) !== why)
          process.stderr.write(`${c.name}: not complete yet (${why}); ${once ? 'skipped' : 'waiting'}\n`);
        waitingSaid.set(c.path, why);
        continue;
      }
      process.stderr.write(scanned.has(c.path) ? `${c.name} changed: scanning it again\n` : `new checkpoint: ${c.name}\n`);
      waitingSaid.delete(c.path);
      // A pool of its own per scan: its workers keep each file open, as it was when first read.
      let result: CliScanResult;
      try {
        result = await scanCheckpoint([c.path], { ...settings, modelName: c.name }, stop);
      } catch (e) {
        if (!(e instanceof ScanError) || (await signature(c)) !== before) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        errors++;
        scanned.set(c.path, before); // broken as it stands: looked at again when it changes
        scans.set(c.path, e.message);
        await writeTimeline(dir, scans, settings);
        continue;
      }
      if (result.cancelled || result.notAnalysed.length > 0) {
        const written = await writeStopped(result, { ...settings, out: join(settings.out, c.name) });
        process.stderr.write(
          `${c.name}: stopped after ${result.records.length} matrices (${result.notAnalysed.length} not analysed): ` +
            `no YAML written; metrics.json in ${written} is marked incomplete\n`,
        );
        return 130;
      }
      if ((await signature(c)) !== before || result.errors.some((e) => e.code === 'FILE_CHANGED')) {
        process.stderr.write(`${c.name} changed during its scan: nothing written; it is scanned again once it holds still\n`);
        continue;
      }
      const written = await writeResults(result, { ...settings, out: join(settings.out, c.name) });
      errors += result.errors.length;
      scanned.set(c.path, before);
      process.stderr.write(`${c.name}: next phase's YAML written to ${written}\n`);
      scans.set(c.path, { records: result.records.map((r) => ({ ...r, singularValues: null })), errors: result.errors });
      await writeTimeline(dir, scans, settings);
    }
    if (once || stop.signal.aborted) break;
    await sleep(interval, stop.signal);
  }
  return errors > 0 ? 2 : 0;
}

/** A checkpoint's last complete scan as the timeline needs it (no singular values), or why it could not be opened. */
type ScannedCheckpoint = Pick<CliScanResult, 'records' | 'errors'> | string;

/**
 * OUT's timeline.json, timeline.csv and timeline.md from every checkpoint scanned so far: what `timeline DIR`
 * writes for those checkpoints, byte for byte. A checkpoint deleted since its scan (a trainer's save_total_limit)
 * keeps its column.
 */
async function writeTimeline(dir: string, scans: ReadonlyMap<string, ScannedCheckpoint>, s: ScanSettings): Promise<void> {
  const run = await runOfFolder(dir, [...scans.keys()].sort(), true);
  const { checkpoints } = run.discovery;
  if (checkpoints.length === 0) return; // none with a step yet: no axis to put them on
  const outcomes = checkpoints.map((c) => {
    const scan = scans.get(c.path);
    return scan === undefined ? null : checkpointOutcome(c, scan);
  });
  const { files, scanned } = timelineFiles(run, outcomes, s, false);
  await writeFilesAtomically(s.out, files);
  process.stderr.write(
    `timeline of ${scanned} of ${checkpoints.length} checkpoints written to ${join(s.out, 'timeline.json')} (.csv, .md)\n`,
  );
}

/**
 * A stopped scan's metrics.json (marked incomplete, with what it did not reach) and CSV, where `scan`
 * puts a stopped scan's files; no Spectrum files: a selection from part of the matrices is no phase.
 */
async function writeStopped(result: CliScanResult, s: Pick<ScanSettings, 'out' | 'variant' | 'csv' | 'force'>): Promise<string> {
  const files = [
    { name: 'metrics.json', text: markIncomplete(writeMetricsJson(result, s.variant), result.notAnalysed) },
    ...(s.csv ? [{ name: 'metrics.csv', text: writeMetricsCsv(result.records, s.variant) }] : []),
  ];
  return writeRunFiles(s.out, { files }, { ...result, cancelled: true }, s.force, 'metrics.json');
}

/** Wait `ms`, or less when `signal` aborts. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  const stopped = whenAborted(signal);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([new Promise((r) => (timer = setTimeout(r, ms))), stopped.aborted]);
  } finally {
    clearTimeout(timer);
    stopped.release();
  }
}
