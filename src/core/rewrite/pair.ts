import { ScanError, type ErrorRecord } from '../errors.ts';
import { MAX_READ_SLICE, type ByteSource } from '../formats/byte-source.ts';
import type { Checkpoint } from '../formats/checkpoint.ts';
import { BYTES_PER_ELEMENT, decodeInto, isFloatDType } from '../formats/dtype.ts';
import { elementCount, type TensorInfo } from '../formats/tensor-info.ts';
import { readInSlices } from '../formats/tensor-slices.ts';
import type { HeadLayout } from '../metrics/weight-delta.ts';
import { matchName, tensorRole } from '../naming/map-tensor.ts';
import { planDelta } from '../scan/plan-delta.ts';

/** One weight of the fine-tuned checkpoint and the base's tensor of the same name. */
export interface PairedMatrix {
  name: string;
  layer: number | null;
  /** heatmap module (`self_attn.q_proj`) */
  module: string;
  ft: TensorInfo;
  base: TensorInfo;
  /** the stored shape (a 1-D weight is 1 × d) */
  rows: number;
  cols: number;
  vector: boolean;
  /** stored in × out (GPT-2's Conv1D): the layer's out × in matrix is the transpose */
  transposed: boolean;
  /** an embedding table (vocab × dim): PEFT adapts it with lora_embedding_A/B */
  embedding: boolean;
  /** q/k/v heads are blocks of rows, o_proj heads blocks of columns (grouped-query aware); null: not attention */
  heads: HeadLayout | { reason: string } | null;
}

export interface CheckpointPair {
  base: Checkpoint;
  ft: Checkpoint;
  /** every 2-D and 1-D float weight both hold, in layer order (only those `only` matches, when given) */
  matrices: PairedMatrix[];
}

const EMBEDDING = /(^|\.)(embed_tokens|wte|wpe|word_embeddings|embed_in|tok_embeddings)\.weight$/;

/** A problem found while opening a checkpoint, as the typed error that stops a rewrite. */
export function scanErrorOf(r: ErrorRecord): ScanError {
  const prefix = r.tensor === undefined ? `${r.file}: ` : `${r.file}: tensor "${r.tensor}": `;
  return new ScanError(r.code, r.file, r.tensor, r.message.startsWith(prefix) ? r.message.slice(prefix.length) : r.message);
}

function configText(c: Record<string, unknown> | null, key: string): string | null {
  const v = c?.[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  return null;
}

/**
 * Match a fine-tuned checkpoint with its base for a rewrite. Unlike a comparison, which lists what
 * it cannot compare and goes on, a rewrite that would silently leave tensors out stops: a broken file,
 * a checkpoint that is not safetensors, architectures that differ (config.json's model_type or
 * architectures), a weight that one side lacks, or shapes that disagree are each a ScanError naming
 * the file and the tensor.
 */
export function pairCheckpoints(base: Checkpoint, ft: Checkpoint, opts: { only?: RegExp } = {}): CheckpointPair {
  for (const c of [base, ft]) {
    if (c.errors.length > 0) throw scanErrorOf(c.errors[0]);
    const m = c.missing[0];
    if (m) throw new ScanError('MISSING_TENSOR', m.file, m.name, 'the index names this tensor but its shard is not there');
    const gguf = c.tensors.find((t) => /\.gguf$/i.test(t.file));
    if (gguf)
      throw new ScanError('NOT_A_CHECKPOINT', gguf.file, undefined, 'a rewrite reads and writes safetensors checkpoints only, not GGUF');
  }
  for (const key of ['model_type', 'architectures']) {
    const [a, b] = [configText(base.config, key), configText(ft.config, key)];
    if (a !== null && b !== null && a !== b)
      throw new ScanError(
        'ARCHITECTURES_DIFFER',
        `${base.name} and ${ft.name}`,
        undefined,
        `architectures differ (config.json ${key}: "${a}" and "${b}")`,
      );
  }
  const weights = (c: Checkpoint) => new Map(c.tensors.filter((t) => isWeight(t)).map((t) => [t.name, t]));
  const [b, f] = [weights(base), weights(ft)];
  for (const [name, t] of f) {
    const other = b.get(name);
    if (!other) throw new ScanError('MISSING_TENSOR', fileOf(base), name, `the base lacks this weight of ${t.file}`);
    if (other.shape.join() !== t.shape.join())
      throw new ScanError(
        'SHAPES_DIFFER',
        t.file,
        name,
        `shape [${t.shape.join(', ')}] here but [${other.shape.join(', ')}] in the base (${other.file})`,
      );
  }
  for (const name of b.keys())
    if (!f.has(name))
      throw new ScanError(
        'MISSING_TENSOR',
        fileOf(ft),
        name,
        `the fine-tuned checkpoint lacks this weight of the base (${b.get(name)!.file})`,
      );

  const plan = planDelta({ ckpt: base, refOf: (x) => x }, { ckpt: ft, refOf: (x) => x }, opts.only ? { only: opts.only } : {});
  const matrices: PairedMatrix[] = [];
  for (const job of plan.jobs) {
    const a = job.derive.a;
    // the whole stored tensor (not a split view of a fused one, nor one expert of a stacked tensor)
    if (a.op !== 'read' || a.operand.tensor.name !== job.name) continue;
    const ftInfo = f.get(job.name);
    const baseInfo = b.get(job.name);
    if (!ftInfo || !baseInfo) continue;
    const vector = ftInfo.shape.length === 1;
    matrices.push({
      name: job.name,
      layer: job.layer,
      module: job.module,
      ft: ftInfo,
      base: baseInfo,
      rows: vector ? 1 : ftInfo.shape[0],
      cols: vector ? ftInfo.shape[0] : ftInfo.shape[1],
      vector,
      transposed: matchName(job.name).match.layout?.transposed === true,
      embedding: EMBEDDING.test(job.name),
      heads: job.delta.heads,
    });
  }
  return { base, ft, matrices };
}

function fileOf(c: Checkpoint): string {
  const files = [...c.sources.keys()];
  return files.length === 1 ? files[0] : c.name;
}

/** A float weight of one or two dimensions: what a rewrite may change (biases and buffers are copied as they are). */
function isWeight(t: TensorInfo): boolean {
  if (!isFloatDType(t.dtype) || (t.shape.length !== 1 && t.shape.length !== 2)) return false;
  const role = tensorRole(t);
  return role.kind !== 'skipped';
}

/** A tensor's values as float64 (every float dtype widens exactly), read in slices. */
export async function readFloat64(c: Checkpoint, info: TensorInfo, signal?: AbortSignal): Promise<Float64Array> {
  const source = c.sources.get(info.file);
  if (!source) throw new ScanError('MISSING_SHARD', info.file, info.name, 'the file is not open');
  return readFloat64From(source, info, signal);
}

export async function readFloat64From(source: ByteSource, info: TensorInfo, signal?: AbortSignal): Promise<Float64Array> {
  const dtype = info.dtype;
  if (!isFloatDType(dtype)) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `${dtype} is not a float dtype`);
  const width = BYTES_PER_ELEMENT[dtype];
  const out = new Float64Array(elementCount(info.shape));
  let at = 0;
  await readInSlices(source, info, width, signal ? { signal } : {}, (bytes) => {
    const count = bytes.byteLength / width;
    if (dtype === 'F64') {
      const copy = bytes.slice();
      out.set(new Float64Array(copy.buffer, 0, count), at);
    } else {
      const tmp = new Float32Array(count);
      decodeInto(dtype, bytes, tmp, 0);
      out.set(tmp, at);
    }
    at += count;
  });
  return out;
}

/** A tensor's raw bytes (a rewrite copies and splices bytes; it decodes only what it computes with). */
export async function readBytes(c: Checkpoint, info: TensorInfo, signal?: AbortSignal): Promise<Uint8Array> {
  const source = c.sources.get(info.file);
  if (!source) throw new ScanError('MISSING_SHARD', info.file, info.name, 'the file is not open');
  const out = new Uint8Array(info.byteLength);
  let at = 0;
  await readInSlices(source, info, 1, signal ? { signal } : {}, (bytes) => {
    out.set(bytes, at);
    at += bytes.byteLength;
  });
  return out;
}

/** Stream a tensor's bytes from its file into `emit`, one slice of at most MAX_READ_SLICE at a time (a tensor copied as it is). */
export async function copyTensor(
  c: Checkpoint,
  info: TensorInfo,
  emit: (bytes: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const source = c.sources.get(info.file);
  if (!source) throw new ScanError('MISSING_SHARD', info.file, info.name, 'the file is not open');
  for (let pos = 0; pos < info.byteLength; pos += MAX_READ_SLICE) {
    const piece: TensorInfo = { ...info, begin: info.begin + pos, byteLength: Math.min(MAX_READ_SLICE, info.byteLength - pos) };
    let bytes: Uint8Array | undefined;
    // readInSlices lends its buffer for the call only: keep a copy to emit after it
    await readInSlices(source, piece, 1, signal ? { signal } : {}, (b) => (bytes = b.slice()));
    if (bytes) await emit(bytes);
  }
}
