import { throwIfAborted } from '../errors.ts';
import type { Checkpoint } from '../formats/checkpoint.ts';
import { readSafetensorsHeader } from '../formats/safetensors.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { copyTensor } from './pair.ts';
import { writeSafetensors } from './safetensors-writer.ts';
import { textBytes, type OutputFolder } from './sink.ts';

/** The metadata key under which a rewritten file says what was done to it. */
export const NOTE_KEY = 'spectral_workbench';

/** New bytes for a tensor (same dtype and shape, so the same length), made when its turn comes. */
export type Replacement = (tensor: TensorInfo) => Promise<Uint8Array>;

export interface WrittenFile {
  name: string;
  bytes: number;
}

export interface RewriteLayout {
  /** write model.safetensors.index.json (the input had one) */
  index: boolean;
  /** small side files to write as they are (config.json) */
  sideFiles?: Map<string, Uint8Array>;
  signal?: AbortSignal;
  /** after each tensor is written (progress) */
  onTensor?: (tensor: TensorInfo, replaced: boolean) => void;
}

/**
 * Write `ft` again with some tensors replaced: the same files (shards keep their names), each with its
 * tensors in the order of their bytes in the input, the same dtypes and shapes, its own `__metadata__`
 * plus `note` under NOTE_KEY; every tensor not replaced is copied byte for byte, slice by slice. Only
 * the tensor being written is in memory. With `index`, model.safetensors.index.json is written anew
 * (weight_map and total_size of the files written).
 */
export async function writeRewrittenCheckpoint(
  ft: Checkpoint,
  out: OutputFolder,
  replacements: ReadonlyMap<string, Replacement>,
  note: string,
  layout: RewriteLayout,
): Promise<WrittenFile[]> {
  const byFile = new Map<string, TensorInfo[]>();
  for (const t of ft.tensors) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);
  const written: WrittenFile[] = [];
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const file of [...byFile.keys()].sort()) {
    throwIfAborted(layout.signal);
    const tensors = byFile.get(file)!.sort((a, b) => a.begin - b.begin);
    const header = await readSafetensorsHeader(ft.sources.get(file)!);
    const metadata = { ...header.metadata, [NOTE_KEY]: note };
    const sink = await out.create(file);
    const bytes = await writeSafetensors(
      sink,
      file,
      metadata,
      tensors.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        byteLength: t.byteLength,
        async write(emit) {
          throwIfAborted(layout.signal);
          const replace = replacements.get(t.name);
          if (replace) await emit(await replace(t));
          else await copyTensor(ft, t, emit, layout.signal);
          layout.onTensor?.(t, replace !== undefined);
        },
      })),
    );
    written.push({ name: file, bytes });
    for (const t of tensors) {
      weightMap[t.name] = file;
      totalSize += t.byteLength;
    }
  }
  if (layout.index) {
    const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const text = `${JSON.stringify({ metadata: { total_size: totalSize, [NOTE_KEY]: note }, weight_map: sorted }, null, 2)}\n`;
    written.push(await writeSmallFile(out, 'model.safetensors.index.json', textBytes(text)));
  }
  for (const [name, bytes] of layout.sideFiles ?? []) written.push(await writeSmallFile(out, name, bytes));
  return written;
}

export async function writeSmallFile(out: OutputFolder, name: string, bytes: Uint8Array): Promise<WrittenFile> {
  const sink = await out.create(name);
  await sink.write(bytes);
  await sink.close();
  return { name, bytes: bytes.byteLength };
}
