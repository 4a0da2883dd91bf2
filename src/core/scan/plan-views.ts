import type { TensorInfo } from '../formats/tensor-info.ts';
import type { NameMatch } from '../naming/naming-rules.ts';
import { splitFused } from '../naming/fused.ts';
import { spectrumType } from '../naming/spectrum-type.ts';
import { DeriveError, shapeOf, type MatrixExpr } from './matrix-expr.ts';
import type { MatrixJob } from './plan.ts';

/** One matrix of a checkpoint as the plan sees it, before it becomes jobs. */
export interface MatrixView {
  /** record name of the whole matrix */
  name: string;
  /** split views are named `${stem}.${suffix}${tail}`: `…attn.c_attn.q`, `…c_attn.q.lora_delta` */
  stem: string;
  tail: string;
  /** the tensor that names the file and dtype of the record */
  tensor: TensorInfo;
  family: string | null;
  match: NameMatch;
  vector: boolean;
  /** Spectrum's module name of the whole matrix; null: not part of Spectrum's exports */
  spectrumModule: string | null;
  /** the whole matrix as analysed; absent: `tensor` as stored */
  full?: MatrixExpr;
  /** the whole matrix as out × in, for splitting a fused tensor */
  canonical?: MatrixExpr;
  source?: string[];
  lora?: { rank: number; scale: number };
}

export interface ViewJobs {
  jobs: MatrixJob[];
  skipped: { name: string; reason: string }[];
}

/**
 * The jobs of one matrix: the matrix itself (a fused tensor stays whole, as Spectrum scans it) and,
 * for a fused tensor, one view per projection (q, k, v; gate, up), which the heatmap shows beside it
 * and Spectrum's exports leave out (spectrumModule null).
 */
export function viewJobs(v: MatrixView, config: Record<string, unknown> | null): ViewJobs {
  const t = v.tensor;
  const skipped: ViewJobs['skipped'] = [];
  let rows: number;
  let cols: number;
  try {
    [rows, cols] = v.full ? shapeOf(v.full) : v.vector ? [1, t.shape[0]] : [t.shape[0], t.shape[1]];
  } catch (e) {
    return { jobs: [], skipped: [{ name: v.name, reason: e instanceof DeriveError ? e.message : String(e) }] };
  }
  const common = {
    tensor: t,
    layer: v.match.layer,
    ...(v.match.expert !== undefined ? { expert: v.match.expert } : {}),
  };
  const jobs: MatrixJob[] = [
    {
      name: v.name,
      ...common,
      module: v.match.module,
      spectrumModule: v.spectrumModule,
      spectrumType: v.spectrumModule === null ? null : spectrumType(v.spectrumModule),
      vector: v.vector,
      rows,
      cols,
      family: v.family,
      ...(v.full ? { derive: v.full } : {}),
      ...(v.source ? { source: v.source } : {}),
      ...(v.lora ? { lora: v.lora } : {}),
    },
  ];
  const fused = v.match.layout?.fused;
  if (!fused || v.vector || !v.canonical) return { jobs, skipped };
  const [r, c] = shapeOf(v.canonical);
  const parts = splitFused(fused, r, c, config);
  if ('reason' in parts) {
    skipped.push({ name: `${v.stem}.{q,k,v}${v.tail}`, reason: parts.reason });
    return { jobs, skipped };
  }
  for (const p of parts) {
    jobs.push({
      name: `${v.stem}.${p.suffix}${v.tail}`,
      ...common,
      module: p.module,
      spectrumModule: null,
      spectrumType: null,
      vector: false,
      rows: p.ranges.reduce((a, [s, e]) => a + e - s, 0),
      cols: c,
      family: v.family,
      derive: { op: 'rows', of: v.canonical, ranges: p.ranges },
      source: v.source ?? [t.name],
      ...(v.lora ? { lora: v.lora } : {}),
    });
  }
  return { jobs, skipped };
}

/**
 * A GGUF stack of experts [experts, out, in]: each expert's matrix is a contiguous byte range (the
 * blocks run along `in`), so each becomes a tensor of its own, read without a derivation.
 */
export function expertSlices(t: TensorInfo): TensorInfo[] {
  const [experts, out, inner] = t.shape;
  const per = t.byteLength / experts;
  if (!Number.isInteger(per)) return [];
  return Array.from({ length: experts }, (_, e) => ({ ...t, shape: [out, inner], begin: t.begin + e * per, byteLength: per }));
}
