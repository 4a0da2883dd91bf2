import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanError } from '../core/errors.ts';
import { openCheckpoint, type Checkpoint } from '../core/formats/checkpoint.ts';
import { modelName } from '../core/naming/model-name.ts';
import { pairCheckpoints, type CheckpointPair } from '../core/rewrite/pair.ts';
import { writeSmallFile } from '../core/rewrite/checkpoint-writer.ts';
import { rewriteReportFiles, type RewriteReport } from '../core/rewrite/reports.ts';
import { textBytes, type OutputFolder } from '../core/rewrite/sink.ts';
import { UsageError, option, type ParsedArgs } from './args.ts';
import { fileSource } from './file-source.ts';
import { resolveCheckpoint, type CheckpointInput } from './inputs.ts';
import { prepareOutputFolder } from './output.ts';

/** The system's words for what stops a write. */
const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EIO: 'an input/output error',
};

function writeFailure(e: unknown, file: string): ScanError {
  if (e instanceof ScanError) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : '';
  const why = Object.hasOwn(WHY, code) ? `${WHY[code]} (${code})` : e instanceof Error ? e.message : String(e);
  return new ScanError('WRITE_FAILED', file, undefined, `could not be written: ${why}`);
}

/** Temporary files of every folder not yet committed: removed if the process exits first (a third Ctrl-C). */
const pending = new Set<string>();
process.on('exit', () => {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
});

/**
 * An output folder on disk: each file is written to a temporary name inside `dir` and renamed into
 * place by commit, once every file is complete; abort (an error, Ctrl-C) removes them. Nothing outside
 * `dir` is written. A file of the same name already there is refused unless `force`.
 */
export function fileOutputFolder(dir: string, force: boolean): OutputFolder & { written: string[] } {
  const files: { name: string; tmp: string; handle?: FileHandle }[] = [];
  const written: string[] = [];
  return {
    written,
    async create(name) {
      if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') throw new Error(`not a file name: ${name}`);
      const final = join(dir, name);
      if (!force && (await stat(final).catch(() => null))) throw new UsageError(`${final} exists (--force replaces it)`, false);
      const tmp = join(dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
      pending.add(tmp);
      const entry: (typeof files)[number] = { name, tmp };
      files.push(entry);
      try {
        entry.handle = await open(tmp, 'wx');
      } catch (e) {
        throw writeFailure(e, final);
      }
      const handle = entry.handle;
      return {
        async write(bytes) {
          try {
            let done = 0;
            while (done < bytes.byteLength) done += (await handle.write(bytes, done, bytes.byteLength - done)).bytesWritten;
          } catch (e) {
            throw writeFailure(e, final);
          }
        },
        async close() {
          try {
            await handle.sync();
            await handle.close();
            entry.handle = undefined;
          } catch (e) {
            throw writeFailure(e, final);
          }
        },
      };
    },
    async commit() {
      for (const f of files) {
        if (f.handle) throw new Error(`${f.name} was not closed`);
        await rename(f.tmp, join(dir, f.name)).catch((e: unknown) => {
          throw writeFailure(e, join(dir, f.name));
        });
        pending.delete(f.tmp);
        written.push(f.name);
      }
      files.length = 0;
    },
    async abort() {
      for (const f of files.splice(0)) {
        await f.handle?.close().catch(() => {});
        await unlink(f.tmp).catch(() => {});
        pending.delete(f.tmp);
      }
    },
  };
}

export interface OpenedPair {
  pair: CheckpointPair;
  /** the fine-tuned checkpoint's side files and layout */
  ft: CheckpointInput;
  close(): Promise<void>;
}

/** BASE and FINETUNED from the command line (files or folders, as scan resolves them), paired for a rewrite. */
export async function openPair(args: ParsedArgs, command: string, only?: RegExp): Promise<OpenedPair> {
  if (args.positional.length !== 2) throw new UsageError(`${command} needs two checkpoints: the base and the fine-tuned one`);
  const [a, b] = await Promise.all(args.positional.map((p) => resolveCheckpoint([p])));
  for (const side of [a, b])
    if (side.errors.length > 0) throw new ScanError(side.errors[0].code, side.errors[0].file, undefined, side.errors[0].message);
  const sources = await Promise.all([a, b].map((side) => Promise.all([...side.paths.values()].map((p) => fileSource(p)))));
  const close = async () => {
    await Promise.all(sources.flat().map((s) => s.close?.()));
  };
  try {
    const [base, ft]: Checkpoint[] = await Promise.all(
      [a, b].map(async (side, i) => {
        const c = await openCheckpoint(sources[i]);
        return { ...c, name: modelName(c.config, side.folder, side.name) };
      }),
    );
    return { pair: pairCheckpoints(base, ft, only ? { only } : {}), ft: b, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** --out DIR, checked (created, writable) before any work. */
export async function outputDir(args: ParsedArgs, command: string): Promise<string> {
  const out = option(args, 'out');
  if (!out) throw new UsageError(`${command} needs --out DIR`);
  await prepareOutputFolder(out);
  return out;
}

/** `--rank R` or `--energy 0.9` (one of them). */
export function rankTarget(args: ParsedArgs, command: string): { rank: number } | { energy: number } {
  const [rank, energy] = [option(args, 'rank'), option(args, 'energy')];
  if ((rank === undefined) === (energy === undefined)) throw new UsageError(`${command} needs --rank R or --energy SHARE (one of them)`);
  if (rank !== undefined) {
    const r = /^\d+$/.test(rank) ? Number(rank) : NaN;
    if (!(r >= 1)) throw new UsageError(`--rank must be a whole number from 1 (got "${rank}")`);
    return { rank: r };
  }
  const s = energy!.endsWith('%') ? Number(energy!.slice(0, -1)) / 100 : /^(\d+\.?\d*|\.\d+)$/.test(energy!) ? Number(energy) : NaN;
  if (!(s > 0 && s <= 1)) throw new UsageError(`--energy must be a share above 0 and at most 1, such as 0.9 or 90% (got "${energy}")`);
  return { energy: s };
}

export function regexOption(args: ParsedArgs, name: string): RegExp | undefined {
  const v = option(args, name);
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (e) {
    throw new UsageError(`--${name} is not a regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Refuse, before any work, to replace files already in --out (unless --force): one line naming the first. */
export async function refuseExisting(dir: string, names: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const n of names) {
    const path = join(dir, n);
    if (await stat(path).catch(() => null)) throw new UsageError(`${path} exists (--force replaces it)`, false);
  }
}

/** The fine-tuned checkpoint's files a rewrite writes again: its weight files, its index, its config.json. */
export function checkpointFileNames(
  pair: CheckpointPair,
  ft: CheckpointInput,
): { weights: string[]; index: boolean; config: string | undefined } {
  const weights = [...new Set(pair.ft.tensors.map((t) => t.file))].sort();
  const index = [...ft.paths.keys()].some((n) => /\.safetensors\.index\.json$/i.test(n));
  return { weights, index, config: ft.paths.get('config.json') };
}

/** A markdown table (the report's files and stdout). */
export function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** The report beside a rewrite's output (JSON and Markdown), the folder committed, the Markdown on stdout. */
export async function finishRewrite(folder: OutputFolder, r: RewriteReport): Promise<void> {
  const files = rewriteReportFiles(r);
  for (const f of files) await writeSmallFile(folder, f.name, textBytes(f.text));
  await folder.commit();
  process.stdout.write(files[1].text);
}
