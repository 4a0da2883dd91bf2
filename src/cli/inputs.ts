import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errorRecord, ScanError, type ErrorRecord } from '../core/errors.ts';
import { isWeightFile } from '../core/formats/checkpoint.ts';
import { UsageError } from './args.ts';

const SIDE_FILES = ['config.json', 'adapter_config.json'];

function belongsToCheckpoint(name: string): boolean {
  return isWeightFile(name) || /\.safetensors\.index\.json$/i.test(name) || SIDE_FILES.includes(name);
}

export interface CheckpointInput {
  /** the folder or file name, for Spectrum's file names when the model does not say its own */
  name: string;
  /** the folder the checkpoint lies in (a Hugging Face cache snapshot names the model) */
  folder: string;
  /** file name → path */
  paths: Map<string, string>;
  /** entries of a folder that cannot be read (a symbolic link loop, a dangling link): left out, one error each */
  errors: ErrorRecord[];
}

/** Why a path cannot be opened, in words (the system's code after it). */
function unreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'ELOOP') return 'a loop of symbolic links (ELOOP)';
  return `cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`;
}

/**
 * A checkpoint from what the user typed: a folder (its weights, index and config), or one or more
 * files (with the config.json beside them, if there is one).
 */
export async function resolveCheckpoint(args: readonly string[]): Promise<CheckpointInput> {
  const paths = new Map<string, string>();
  const errors: ErrorRecord[] = [];
  // the argument each file came from, to name both when two of them hold a file of the same name
  const givenAs = new Map<string, string>();
  const add = (file: string, path: string, arg: string) => {
    const before = paths.get(file);
    if (before !== undefined && before !== path && !SIDE_FILES.includes(file)) {
      throw new UsageError(
        `two checkpoints given: ${givenAs.get(file)} and ${arg} (each has a ${file}); a scan reads one: ` +
          `run two scans, or phases ${givenAs.get(file)} ${arg} to follow one from the other`,
        false,
      );
    }
    paths.set(file, path);
    givenAs.set(file, arg);
  };
  let name: string | undefined;
  let folder: string | undefined;
  for (const arg of args) {
    const path = resolve(arg);
    const info = await stat(path).catch((e: unknown) => {
      throw new ScanError('NOT_A_CHECKPOINT', arg, undefined, unreadable(e));
    });
    if (info.isDirectory()) {
      name ??= basename(path);
      folder ??= path;
      for (const f of (await readdir(path)).sort()) {
        if (!belongsToCheckpoint(f)) continue;
        const entry = join(path, f);
        // a link loop or a dangling link is one bad entry: the rest of the folder is still scanned
        const problem = await stat(entry).then(
          () => null,
          (e: unknown) => unreadable(e),
        );
        if (problem) errors.push(errorRecord('READ_FAILED', join(arg, f), undefined, `left out: ${problem}`));
        else add(f, entry, arg);
      }
    } else {
      name ??= basename(path).replace(/\.(safetensors(\.index\.json)?|gguf)$/i, '');
      folder ??= dirname(path);
      add(basename(path), path, arg);
      for (const side of SIDE_FILES) {
        const p = join(dirname(path), side);
        if (!paths.has(side) && (await stat(p).catch(() => null))?.isFile()) paths.set(side, p);
      }
    }
  }
  return { name: name ?? 'model', folder: folder ?? process.cwd(), paths, errors };
}
