import type { SingularTriplets } from '../low-rank.ts';

/**
 * Intruder dimensions (Shuttleworth et al. 2024, "LoRA vs Full Fine-tuning: An Illusion of
 * Equivalence", arXiv 2410.21228): a top singular vector of the fine-tuned matrix that is nearly
 * orthogonal to every singular vector of the base matrix. The defaults are those of the paper's
 * published code (github.com/reeceshuttle/intruder-dimensions, find_intruder_dimensions.py): the
 * top k = 10 left singular vectors (U, the output side of a [out, in] weight) of the fine-tuned
 * matrix, each compared with all of the base's left singular vectors (a thin SVD: min(rows, cols)
 * of them), an intruder where the largest |cosine| is below ε = 0.5.
 */
export const INTRUDER_DEFAULTS = { k: 10, threshold: 0.5, side: 'left' } as const;

/** Which singular vectors are compared: the left ones (U, length rows) or the right ones (V, length cols). */
export type IntruderSide = 'left' | 'right';

export interface IntruderOptions {
  /** how many of the fine-tuned matrix's top singular vectors are examined */
  k?: number;
  /** ε: an intruder's largest |cosine| with any base singular vector is below it */
  threshold?: number;
  side?: IntruderSide;
}

export interface IntruderDimension {
  /** 0-based rank of the fine-tuned singular vector (0: the largest σ) */
  index: number;
  /** its singular value in the fine-tuned matrix */
  sigma: number;
  /** the largest |cos| with any base singular vector */
  maxCos: number;
  /** the base singular vector that reaches it (0-based rank in the base) */
  baseIndex: number;
  intruder: boolean;
}

export interface IntruderResult {
  k: number;
  threshold: number;
  side: IntruderSide;
  /** how many base singular vectors each was compared with */
  baseVectors: number;
  dimensions: IntruderDimension[];
  /** how many of the k are intruders */
  intruders: number;
}

/** The requested vectors of a set of triplets: their length, how many, and entry (i, j) of vector j. */
function vectorsOf(t: SingularTriplets, side: IntruderSide): { length: number; count: number; at: (i: number, j: number) => number } {
  const data = side === 'left' ? t.u : t.v;
  const length = side === 'left' ? t.rows : t.cols;
  const rank = t.rank;
  return { length, count: rank, at: (i, j) => data[i * rank + j] };
}

/**
 * For each of the fine-tuned matrix's top k singular vectors, the largest |cosine| with any of the
 * base's singular vectors given (all of them for the paper's definition), and whether it is an
 * intruder (below the threshold). The vectors are normalised here, so cosines stay cosines even
 * when a solver's vectors are unit only to rounding; a zero vector has cosine 0 with everything.
 */
export function intruderDimensions(tuned: SingularTriplets, base: SingularTriplets, opts: IntruderOptions = {}): IntruderResult {
  const k = opts.k ?? INTRUDER_DEFAULTS.k;
  const threshold = opts.threshold ?? INTRUDER_DEFAULTS.threshold;
  const side = opts.side ?? INTRUDER_DEFAULTS.side;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`the threshold is a cosine in (0, 1], not ${threshold}`);
  if (tuned.rows !== base.rows || tuned.cols !== base.cols)
    throw new RangeError(`shapes differ: ${base.rows} × ${base.cols} (base) and ${tuned.rows} × ${tuned.cols} (fine-tuned)`);
  const a = vectorsOf(tuned, side);
  const b = vectorsOf(base, side);
  const n = a.length;
  const examined = Math.min(k, a.count);
  // the base's vectors as contiguous columns with their norms, read once for all k
  const baseColumns: Float64Array[] = [];
  const baseNorms = new Float64Array(b.count);
  for (let j = 0; j < b.count; j++) {
    const col = new Float64Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      col[i] = b.at(i, j);
      s += col[i] * col[i];
    }
    baseColumns.push(col);
    baseNorms[j] = Math.sqrt(s);
  }
  const dimensions: IntruderDimension[] = [];
  const vec = new Float64Array(n);
  for (let j = 0; j < examined; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      vec[i] = a.at(i, j);
      s += vec[i] * vec[i];
    }
    const norm = Math.sqrt(s);
    let maxCos = 0;
    let baseIndex = -1;
    for (let c = 0; c < b.count; c++) {
      const col = baseColumns[c];
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vec[i] * col[i];
      const denom = norm * baseNorms[c];
      const cos = denom > 0 ? Math.min(1, Math.abs(dot) / denom) : 0;
      if (baseIndex < 0 || cos > maxCos) {
        maxCos = cos;
        baseIndex = c;
      }
    }
    dimensions.push({ index: j, sigma: tuned.sigma[j], maxCos, baseIndex, intruder: maxCos < threshold });
  }
  return { k: examined, threshold, side, baseVectors: b.count, dimensions, intruders: dimensions.filter((d) => d.intruder).length };
}

/** One matrix's intruder dimensions, as intruders.json lists them. */
export interface IntruderMatrixReport extends IntruderResult {
  name: string;
  module: string;
  layer: number | null;
  rows: number;
  cols: number;
}

const rounded = (x: number) => Number(x.toPrecision(9));

/** intruders.json: the settings, where the defaults come from, and each matrix's k dimensions. */
export function intrudersJson(
  pair: { base: string; tuned: string },
  settings: { k: number; threshold: number; side: IntruderSide },
  reports: readonly IntruderMatrixReport[],
  errors: readonly { file: string; tensor?: string; code: string; message: string }[],
): string {
  const doc = {
    base: pair.base,
    finetuned: pair.tuned,
    definition:
      'intruder dimensions (Shuttleworth et al. 2024, arXiv 2410.21228): a top singular vector of the fine-tuned matrix whose largest |cosine| with every singular vector of the base matrix is below the threshold',
    defaults_from:
      'github.com/reeceshuttle/intruder-dimensions, find_intruder_dimensions.py: k = 10, threshold = 0.5, left singular vectors',
    ...settings,
    matrices: reports.map((r) => ({
      name: r.name,
      module: r.module,
      layer: r.layer,
      shape: [r.rows, r.cols],
      base_vectors: r.baseVectors,
      intruders: r.intruders,
      dimensions: r.dimensions.map((d) => ({
        index: d.index,
        sigma: rounded(d.sigma),
        max_cos: rounded(d.maxCos),
        base_index: d.baseIndex,
        intruder: d.intruder,
      })),
    })),
    errors,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A readable table (Markdown): one row per matrix with its count, then each matrix's k values. */
export function intrudersTable(pair: { base: string; tuned: string }, reports: readonly IntruderMatrixReport[]): string {
  const lines = [`# Intruder dimensions: ${pair.tuned} against ${pair.base}`, ''];
  const first = reports[0];
  if (first)
    lines.push(
      `Top ${first.k} ${first.side} singular vectors of each fine-tuned matrix; an intruder's largest |cos| with any of the base's singular vectors is below ${first.threshold}.`,
      '',
    );
  lines.push('| matrix | shape | intruders |', '| --- | --- | --- |');
  for (const r of reports) lines.push(`| ${r.name} | ${r.rows} × ${r.cols} | ${r.intruders} of ${r.k} |`);
  for (const r of reports) {
    lines.push('', `## ${r.name}`, '', '| # | σ | max \\|cos\\| | base vector | intruder |', '| --- | --- | --- | --- | --- |');
    for (const d of r.dimensions)
      lines.push(
        `| ${d.index + 1} | ${d.sigma.toPrecision(5)} | ${d.maxCos.toFixed(4)} | ${d.baseIndex + 1} | ${d.intruder ? 'yes' : 'no'} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}
