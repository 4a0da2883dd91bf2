import { extent, interpolateViridis, scaleSequential, scaleSequentialLog } from 'd3';
import { quantileSorted } from '../../core/metrics/spectrum.ts';
import type { SpectrumVariant } from '../../core/metrics/spectrum.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { metricValue } from '../../state/heatmap-data.ts';
import type { HeatmapMetric, HeatmapMode } from '../../state/types.ts';

export const SELECTED = '#2f9e44';
export const NOT_SELECTED = '#d9480f';
export const PENDING = '#e9ecef';
export const NO_VALUE = '#868e96';
/** a tensor that could not be read (its error is in the tip and the problem list) */
export const FAILED = '#495057';

/** How a cell is painted: a colour, or the hatch that says "non-finite weights" (never a scale colour). */
export type CellPaint = { kind: 'fill'; color: string } | { kind: 'hatch' } | { kind: 'pending' };

export type CellMark = 'added' | 'dropped' | null;

export interface Painter {
  paint(r: MatrixRecord | undefined): CellPaint;
  /** phase views: this cell is newly selected, or was selected in the phase before and is not now */
  mark?(r: MatrixRecord | undefined): CellMark;
  /** SNR sanity: this cell's Spectrum score is not made by a noise bulk (a corner triangle; the tip says why) */
  flag?(r: MatrixRecord | undefined): boolean;
  /** alpha and alpha_peak disagree here ("fingers"; a bottom-left triangle, shown with the alpha metrics) */
  finger?(r: MatrixRecord | undefined): boolean;
  /** for the legend: the metric scale, or null in selection mode */
  scale: { domain: [number, number]; log: boolean; color(v: number): string; marks: number[] } | null;
}

/** What every heatmap paints the same way: a cell not analysed yet, and non-finite weights; null: paint by value. */
export function statusPaint(r: MatrixRecord | undefined): CellPaint | null {
  if (!r) return { kind: 'pending' };
  if (r.status === 'non-finite') return { kind: 'hatch' };
  return null;
}

export function makePainter(
  records: readonly MatrixRecord[],
  mode: HeatmapMode,
  metric: HeatmapMetric,
  variant: SpectrumVariant,
  /** whether the YAML unfreezes what a cell shows (a split view or an expert mean: the modules it comes from) */
  isSelected: (r: MatrixRecord) => boolean,
): Painter {
  const base = statusPaint;
  if (mode === 'selection') {
    return {
      paint: (r) => base(r) ?? { kind: 'fill', color: isSelected(r!) ? SELECTED : NOT_SELECTED },
      scale: null,
    };
  }
  return metricPainter(
    records,
    (r) => metricValue(r, metric, variant),
    base,
    metric === 'alpha' || metric === 'alpha_peak' || metric === 'alpha_farms' ? [2, 6] : [],
  );
}

/**
 * A continuous viridis scale over the values of the block matrices (1st–99th percentile, log when
 * positive and wide), for any metric of a record; `base` paints what has no value to scale.
 */
export function metricPainter(
  records: readonly MatrixRecord[],
  valueOf: (r: MatrixRecord) => number | null,
  base: (r: MatrixRecord | undefined) => CellPaint | null,
  marks: number[] = [],
): Painter {
  const values = records
    .filter((r) => !r.vector && r.layer !== null && base(r) === null)
    .map(valueOf)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  // 1st–99th percentile: one spurious value (alpha 40 from a short tail) must not wash out the rest.
  const [lo, hi] =
    values.length > 20
      ? [quantileSorted(values, 0.01), quantileSorted(values, 0.99)]
      : (extent(values) as [number | undefined, number | undefined]);
  const domain: [number, number] = lo === undefined || hi === undefined ? [0, 1] : lo === hi ? [lo, lo + 1] : [lo, hi];
  // SNR-like ratios span orders of magnitude: a log scale when every value is positive and the range is wide.
  const log = domain[0] > 0 && domain[1] / domain[0] > 20;
  const scale = (log ? scaleSequentialLog(interpolateViridis).domain(domain) : scaleSequential(interpolateViridis).domain(domain)).clamp(
    true,
  );
  return {
    paint: (r) => {
      const b = base(r);
      if (b) return b;
      const v = valueOf(r!);
      return { kind: 'fill', color: v === null ? NO_VALUE : scale(v) };
    },
    scale: { domain, log, color: (v) => scale(v), marks: marks.filter((m) => m > domain[0] && m < domain[1]) },
  };
}

/** Marks of a phase against the phase before it (by Spectrum module name). */
export function withTransitionMarks(painter: Painter, selected: ReadonlySet<string>, previous: ReadonlySet<string> | null): Painter {
  if (!previous) return painter;
  return {
    ...painter,
    mark: (r) => {
      if (!r) return null;
      const now = selected.has(r.spectrumModule ?? '');
      const before = previous.has(r.spectrumModule ?? '');
      return now && !before ? 'added' : before && !now ? 'dropped' : null;
    },
  };
}

/** Corner flags on the cells whose Spectrum score SNR sanity flags (`flagged`: by record). */
export function withSanityFlags(painter: Painter, flagged: (r: MatrixRecord) => boolean): Painter {
  return { ...painter, flag: (r) => (r ? flagged(r) : false) };
}

/** Bottom-left marks on the cells where the plain and the xmin_peak power-law fits disagree. */
export function withFingerMarks(painter: Painter, disagree: (r: MatrixRecord) => boolean): Painter {
  return { ...painter, finger: (r) => (r ? disagree(r) : false) };
}

/** The flag's corner triangle: dark with a white edge, seen on green, red and every viridis colour. */
export const FLAG_FILL = '#212529';
/** The triangle's side for a cell: about 40 % of its smaller side, 4 to 9 px. */
export function flagSize(cellW: number, cellH: number): number {
  return Math.max(4, Math.min(9, Math.min(cellW, cellH) * 0.4));
}
