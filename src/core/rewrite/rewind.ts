import { ScanError, throwIfAborted } from '../errors.ts';
import { BYTES_PER_ELEMENT, isFloatDType } from '../formats/dtype.ts';
import type { HeadLayout } from '../metrics/weight-delta.ts';
import { writeRewrittenCheckpoint, writeSmallFile, type Replacement, type RewriteLayout, type WrittenFile } from './checkpoint-writer.ts';
import { readDelta } from './low-rank-fn.ts';
import { readBytes, type CheckpointPair, type PairedMatrix } from './pair.ts';
import { textBytes, type OutputFolder } from './sink.ts';

/** One head of one attention matrix: rows (q/k/v) or columns (o_proj) `head·size … (head+1)·size`. */
export interface HeadRef {
  tensor: string;
  head: number;
}

export interface HeadScore extends HeadRef {
  layer: number | null;
  module: string;
  axis: HeadLayout['axis'];
  /** ‖ΔW‖_F² of the head's block, in float64 */
  energy: number;
}

/** The heads file (docs/rewrite.md): what `rewind --heads-file` reads and the page exports. */
export const HEADS_FORMAT = 'spectral-workbench-heads';

export interface HeadsFile {
  format: typeof HEADS_FORMAT;
  version: 1;
  base?: string;
  finetuned?: string;
  heads: HeadRef[];
}

function layoutOf(m: PairedMatrix): HeadLayout | null {
  return m.heads && !('reason' in m.heads) ? m.heads : null;
}

/**
 * Every head of every attention matrix (q/k/v/o with config.json's heads; k/v have num_key_value_heads)
 * and its ‖ΔW‖_F², read one matrix at a time. Attention matrices whose heads are not known (no
 * config.json) are an error: heads cannot be chosen without them.
 */
export async function headScores(pair: CheckpointPair, signal?: AbortSignal): Promise<HeadScore[]> {
  const scores: HeadScore[] = [];
  for (const m of pair.matrices) {
    if (m.heads === null || m.vector) continue;
    const layout = layoutOf(m);
    if (!layout) throw new ScanError('INDEX_INVALID', m.ft.file, m.name, (m.heads as { reason: string }).reason);
    const { delta } = await readDelta(pair, m, signal);
    const energy = new Float64Array(layout.count);
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < m.cols; j++) {
        const d = delta[i * m.cols + j];
        energy[Math.floor((layout.axis === 'rows' ? i : j) / layout.size)] += d * d;
      }
    energy.forEach((e, head) => scores.push({ tensor: m.name, head, layer: m.layer, module: m.module, axis: layout.axis, energy: e }));
  }
  return scores;
}

/**
 * The top `percent` % of heads by ‖ΔW‖_F² (rounded to the nearest whole head), across the model or
 * within each layer; heads the fine-tune did not change are never chosen (rewinding them changes nothing).
 */
export function chooseHeads(scores: readonly HeadScore[], percent: number, perLayer: boolean): HeadScore[] {
  const groups = new Map<string, HeadScore[]>();
  for (const s of scores) {
    const key = perLayer ? String(s.layer) : 'all';
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const chosen: HeadScore[] = [];
  for (const g of groups.values()) {
    const n = Math.round((g.length * percent) / 100);
    const ranked = [...g].sort((a, b) => b.energy - a.energy || (a.tensor < b.tensor ? -1 : a.tensor > b.tensor ? 1 : a.head - b.head));
    chosen.push(...ranked.slice(0, n).filter((s) => s.energy > 0));
  }
  return chosen;
}

/** Each chosen head with its ‖ΔW‖² and its share of all the heads' (what the reports list). */
export function withHeadShares(scores: readonly HeadScore[], chosen: readonly HeadRef[]): (HeadRef & { energy: number; share: number })[] {
  const total = scores.reduce((s, h) => s + h.energy, 0);
  const energyOf = new Map(scores.map((s) => [`${s.tensor}\u0000${s.head}`, s.energy]));
  return chosen.map(({ tensor, head }) => {
    const energy = energyOf.get(`${tensor}\u0000${head}`) ?? 0;
    return { tensor, head, energy, share: total > 0 ? energy / total : 0 };
  });
}

/** Read a heads file: `{"format": "spectral-workbench-heads", "version": 1, "heads": [{"tensor", "head"}]}`, each head checked against the pair. */
export function parseHeadsFile(text: string, file: string, pair: CheckpointPair): HeadRef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ScanError('INDEX_INVALID', file, undefined, 'is not valid JSON');
  }
  const o = parsed as Partial<HeadsFile> | null;
  if (typeof o !== 'object' || o === null || o.format !== HEADS_FORMAT || o.version !== 1 || !Array.isArray(o.heads))
    throw new ScanError(
      'INDEX_INVALID',
      file,
      undefined,
      `is not a heads file (expected {"format": "${HEADS_FORMAT}", "version": 1, "heads": [...]})`,
    );
  const byName = new Map(pair.matrices.map((m) => [m.name, m]));
  return o.heads.map((h: unknown, i) => {
    const { tensor, head } = (h ?? {}) as Partial<HeadRef>;
    if (typeof tensor !== 'string' || typeof head !== 'number' || !Number.isInteger(head))
      throw new ScanError('INDEX_INVALID', file, undefined, `heads[${i}] is not {"tensor": name, "head": index}`);
    const m = byName.get(tensor);
    if (!m) throw new ScanError('MISSING_TENSOR', file, tensor, `heads[${i}] names a weight the checkpoints do not hold`);
    const layout = layoutOf(m);
    if (!layout) throw new ScanError('INDEX_INVALID', file, tensor, `heads[${i}]: not an attention matrix with known heads`);
    if (head < 0 || head >= layout.count)
      throw new ScanError('INDEX_INVALID', file, tensor, `heads[${i}]: head ${head} is outside 0–${layout.count - 1}`);
    return { tensor, head };
  });
}

export function headsFileText(heads: readonly HeadRef[], pair: CheckpointPair): string {
  const file: HeadsFile = {
    format: HEADS_FORMAT,
    version: 1,
    base: pair.base.name,
    finetuned: pair.ft.name,
    heads: heads.map(({ tensor, head }) => ({ tensor, head })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export interface RewindReport {
  kind: 'rewind';
  base: string;
  finetuned: string;
  /** heads put back to the base's bytes, with their ‖ΔW‖_F² and share of all heads' */
  heads: (HeadRef & { energy?: number; share?: number })[];
  /** whole matrices put back (--matrices) */
  matrices: string[];
  files: WrittenFile[];
}

/**
 * The fine-tuned checkpoint with some heads' rows (q/k/v) or columns (o_proj), and some whole
 * matrices, put back to the base's bytes: every other byte of every tensor is the fine-tuned file's.
 * Bytes are spliced, never decoded, so the two checkpoints must store those tensors in the same dtype.
 */
export async function rewind(
  pair: CheckpointPair,
  out: OutputFolder,
  what: { heads: readonly (HeadRef & { energy?: number; share?: number })[]; matrices: readonly string[] },
  layout: RewriteLayout,
): Promise<RewindReport> {
  const byName = new Map(pair.matrices.map((m) => [m.name, m]));
  const headsOf = new Map<string, number[]>();
  for (const h of what.heads) headsOf.set(h.tensor, [...(headsOf.get(h.tensor) ?? []), h.head]);
  const whole = new Set(what.matrices);
  const replacements = new Map<string, Replacement>();
  for (const name of new Set([...headsOf.keys(), ...whole])) {
    const m = byName.get(name);
    if (!m) throw new ScanError('MISSING_TENSOR', pair.ft.name, name, 'not a weight both checkpoints hold');
    if (m.ft.dtype !== m.base.dtype)
      throw new ScanError(
        'DTYPES_DIFFER',
        m.ft.file,
        name,
        `${m.ft.dtype} here but ${m.base.dtype} in the base (${m.base.file}): its bytes cannot be put back`,
      );
    replacements.set(name, async () => {
      throwIfAborted(layout.signal);
      const base = await readBytes(pair.base, m.base, layout.signal);
      if (whole.has(name)) return base;
      const bytes = await readBytes(pair.ft, m.ft, layout.signal);
      const h = layoutOf(m)!;
      const width = isFloatDType(m.ft.dtype) ? BYTES_PER_ELEMENT[m.ft.dtype] : 1;
      for (const head of headsOf.get(name)!) {
        if (h.axis === 'rows') {
          const [from, to] = [head * h.size * m.cols * width, (head + 1) * h.size * m.cols * width];
          bytes.set(base.subarray(from, to), from);
        } else {
          for (let i = 0; i < m.rows; i++) {
            const from = (i * m.cols + head * h.size) * width;
            bytes.set(base.subarray(from, from + h.size * width), from);
          }
        }
      }
      return bytes;
    });
  }
  const headCount = what.heads.length;
  const note = `rewind: ${headCount} head${headCount === 1 ? '' : 's'} and ${whole.size} whole matri${whole.size === 1 ? 'x' : 'ces'} of ${pair.ft.name} put back to ${pair.base.name}`;
  const files = await writeRewrittenCheckpoint(pair.ft, out, replacements, note, layout);
  files.push(await writeSmallFile(out, 'rewound-heads.json', textBytes(headsFileText(what.heads, pair))));
  return { kind: 'rewind', base: pair.base.name, finetuned: pair.ft.name, heads: [...what.heads], matrices: [...whole], files };
}
