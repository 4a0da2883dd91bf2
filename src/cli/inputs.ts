import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ScanError } from '../core/errors.ts';
import { isWeightFile } from '../core/formats/checkpoint.ts';

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
}

/**
 * A checkpoint from what the user typed: a folder (its weights, index and config), or one or more
 * files (with the config.json beside them, if there is one).
 */
export async function resolveCheckpoint(args: readonly string[]): Promise<CheckpointInput> {
  const paths = new Map<string, string>();
  let name: string | undefined;
  let folder: string | undefined;
  for (const arg of args) {
    const path = resolve(arg);
    const info = await stat(path).catch(() => null);
    if (!info) throw new ScanError('NOT_A_CHECKPOINT', arg, undefined, 'no such file or folder');
    if (info.isDirectory()) {
      name ??= basename(path);
      folder ??= path;
      for (const f of (await readdir(path)).sort()) if (belongsToCheckpoint(f)) paths.set(f, join(path, f));
    } else {
      name ??= basename(path).replace(/\.(safetensors(\.index\.json)?|gguf)$/i, '');
      folder ??= dirname(path);
      paths.set(basename(path), path);
      for (const side of SIDE_FILES) {
        const p = join(dirname(path), side);
        if (!paths.has(side) && (await stat(p).catch(() => null))?.isFile()) paths.set(side, p);
      }
    }
  }
  return { name: name ?? 'model', folder: folder ?? process.cwd(), paths };
}
