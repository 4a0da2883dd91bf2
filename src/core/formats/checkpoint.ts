import { dataRecord } from '../data-record.ts';
import { errorRecord, ScanError, toErrorRecord, type ErrorRecord } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { readGgufHeader } from './gguf.ts';
import { readSafetensorsHeader } from './safetensors.ts';
import { contentDigest } from './content-sample.ts';
import { fnv1a } from './hash.ts';
import type { TensorInfo } from './tensor-info.ts';

/** Side files that say how to read the weights; small, so they are read whole. */
const MAX_SIDE_FILE_BYTES = 16 * 1024 * 1024;

/** What a checkpoint's headers say: plain data, so it crosses worker boundaries. */
export interface CheckpointInfo {
  /** a name for the whole checkpoint: the folder, or the file without its extension */
  name: string;
  /** names, sizes, header bytes and sampled data of its files, hashed: the same files give the same fingerprint */
  fingerprint: string;
  tensors: TensorInfo[];
  /** config.json beside the weights, if given */
  config: Record<string, unknown> | null;
  /** adapter_config.json beside the weights (LoRA), if given */
  adapterConfig: Record<string, unknown> | null;
  metadata: Record<string, string>;
  errors: ErrorRecord[];
  /** tensors the index names but no given file holds */
  missing: { name: string; file: string }[];
  /** bytes of tensor data across all files (what a full scan reads at most) */
  totalBytes: number;
}

export interface Checkpoint extends CheckpointInfo {
  /** the sources by file name, for reading tensors */
  sources: Map<string, ByteSource>;
}

export function isWeightFile(name: string): boolean {
  return /\.(safetensors|gguf)$/i.test(name);
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

async function readJson(source: ByteSource): Promise<Record<string, unknown>> {
  if (source.size > MAX_SIDE_FILE_BYTES)
    throw new ScanError(
      'TOO_LARGE',
      source.name,
      undefined,
      `${source.size} bytes is too large for a JSON side file (limit ${MAX_SIDE_FILE_BYTES})`,
    );
  const bytes = await source.read(0, source.size).catch((e: unknown) => {
    throw new ScanError('READ_FAILED', source.name, undefined, `could not be read: ${e instanceof Error ? e.message : String(e)}`);
  });
  const text = new TextDecoder().decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ScanError('INDEX_INVALID', source.name, undefined, 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ScanError('INDEX_INVALID', source.name, undefined, 'is not a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * Open a checkpoint from the files a user gave: one .safetensors, or shards with their
 * model.safetensors.index.json, optionally with config.json / adapter_config.json. Only headers are read.
 * Problems with one file or tensor are recorded and the rest stays usable.
 */
export async function openCheckpoint(sources: ByteSource[], name?: string): Promise<Checkpoint> {
  const errors: ErrorRecord[] = [];
  const byName = new Map<string, ByteSource>();
  for (const s of sources) byName.set(baseName(s.name), s);
  const weightFiles = [...byName.entries()].filter(([n]) => isWeightFile(n));
  const indexFile = [...byName.entries()].find(([n]) => /\.safetensors\.index\.json$/i.test(n));
  const sideJson = async (file: string) => {
    const s = byName.get(file);
    if (!s) return null;
    try {
      return await readJson(s);
    } catch (e) {
      errors.push(toErrorRecord(e, file));
      return null;
    }
  };
  const config = await sideJson('config.json');
  const adapterConfig = await sideJson('adapter_config.json');

  let weightMap: Map<string, string> | null = null;
  if (indexFile) {
    const index = await sideJson(indexFile[0]);
    const wm = index?.weight_map;
    if (index && (typeof wm !== 'object' || wm === null || Array.isArray(wm))) {
      errors.push(new ScanError('INDEX_INVALID', indexFile[0], undefined, 'has no "weight_map" object').toRecord());
    } else if (wm) {
      weightMap = new Map(
        Object.entries(wm as Record<string, unknown>)
          .filter((e): e is [string, string] => typeof e[1] === 'string')
          .map(([t, f]) => [t, baseName(f)]),
      );
    }
  }
  if (weightFiles.length === 0 && !weightMap) {
    throw new ScanError(
      'NOT_A_CHECKPOINT',
      sources.map((s) => baseName(s.name)).join(', ') || '(no files)',
      undefined,
      'no .safetensors or .gguf file, nor model.safetensors.index.json, among the files',
    );
  }

  const tensors: TensorInfo[] = [];
  const metadata = dataRecord<string>();
  const fingerprintParts: string[] = [];
  const seen = new Map<string, string>();
  let ggufConfig: Record<string, unknown> | undefined;
  const readable = new Map<string, ByteSource>();
  for (const [file, source] of weightFiles.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    try {
      const header = /\.gguf$/i.test(file) ? await readGgufHeader(source) : await readSafetensorsHeader(source);
      // a GGUF carries what config.json would say (heads, hidden size) in its own metadata
      if ('config' in header) ggufConfig ??= header.config;
      fingerprintParts.push(`${file}:${source.size}:${header.headerHash}:${await contentDigest(source, header.tensors)}`);
      readable.set(file, source);
      Object.assign(metadata, header.metadata);
      errors.push(...header.errors);
      for (const t of header.tensors) {
        const other = seen.get(t.name);
        if (other !== undefined) {
          errors.push(errorRecord('DUPLICATE_TENSOR', file, t.name, `also in ${other}; the first is used`));
          continue;
        }
        seen.set(t.name, file);
        tensors.push(t);
      }
    } catch (e) {
      errors.push(toErrorRecord(e, file));
    }
  }

  const missing: { name: string; file: string }[] = [];
  if (weightMap) {
    const missingShards = new Map<string, number>();
    // a file given beside the index that the index names as a shard, but that holds no weights we read (a .bin, a JSON)
    const notShards = new Map<string, number>();
    const failed = new Set(errors.filter((e) => e.tensor !== undefined).map((e) => `${e.file}\u0000${e.tensor}`));
    for (const [tensor, file] of weightMap) {
      if (seen.has(tensor)) continue;
      missing.push({ name: tensor, file });
      if (!byName.has(file)) missingShards.set(file, (missingShards.get(file) ?? 0) + 1);
      else if (!isWeightFile(file)) notShards.set(file, (notShards.get(file) ?? 0) + 1);
      // a tensor the shard lists but could not use (truncated, bad entry) has its own error already
      else if (readable.has(file) && !failed.has(`${file}\u0000${tensor}`))
        errors.push(errorRecord('MISSING_TENSOR', file, tensor, 'the index places this tensor here but the file does not hold it'));
    }
    for (const [file, count] of missingShards) {
      errors.push(
        new ScanError(
          'MISSING_SHARD',
          file,
          undefined,
          `shard named by the index is missing: ${count} tensor${count === 1 ? '' : 's'} not analysed`,
        ).toRecord(),
      );
    }
    for (const [file, count] of notShards) {
      errors.push(
        errorRecord(
          'MISSING_SHARD',
          file,
          undefined,
          `named by the index as a shard, but not a .safetensors or .gguf file: ${count} tensor${count === 1 ? '' : 's'} not analysed`,
        ),
      );
    }
  }
  const totalBytes = tensors.reduce((a, t) => a + t.byteLength, 0);
  return {
    name:
      name ??
      defaultName(
        weightFiles.map(([f]) => f),
        indexFile?.[0],
      ),
    fingerprint: fnv1a(fingerprintParts.join('|')),
    tensors,
    sources: readable,
    config: config ?? ggufConfig ?? null,
    adapterConfig,
    metadata,
    errors,
    missing,
    totalBytes,
  };
}

function defaultName(weightFiles: string[], indexFile: string | undefined): string {
  if (weightFiles.length === 1 && !indexFile) return weightFiles[0].replace(/\.(safetensors|gguf)$/i, '');
  const first = indexFile ?? weightFiles[0] ?? 'model';
  return first.replace(/\.(safetensors(\.index\.json)?|gguf)$/i, '').replace(/-\d+-of-\d+$/, '');
}
