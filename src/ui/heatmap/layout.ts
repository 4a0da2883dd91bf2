import type { HeatmapGrid } from '../../state/heatmap-data.ts';

/** Geometry of a heatmap: shared by the canvas, hit-testing, and the SVG/PNG exports. */
export interface HeatmapLayout {
  left: number;
  top: number;
  cellW: number;
  cellH: number;
  width: number;
  height: number;
  /** label every n-th layer, so labels never overlap */
  labelEvery: number;
  /**
   * Where the axis titles go, in the margins the labels leave free so the grid never moves: "layer"
   * ends just left of the layer numbers, "module" runs up the left edge beside the rows. Null without
   * row labels (a phase panel after the first), where the margin is too narrow.
   */
  axisTitles: { layer: { x: number; y: number }; module: { x: number; y: number }; names?: AxisNames } | null;
}

export const AXIS_TITLES = { layer: 'layer', module: 'module' } as const;
/** The page's --muted: 4.5:1 on white, where the lighter grey read at 3.3:1 */
export const AXIS_TITLE_COLOR = '#5f6870';

/** The axis titles of a grid whose columns are not layers (the Run page: columns are steps, rows layers). */
export interface AxisNames {
  layer: string;
  module: string;
}

/**
 * A module type as a row label: self_attn.q_proj → attn.q, post_attention_layernorm → post_attn_norm.
 * The one shortening of the grids, the norm strip, the ΔW and Run pages; tips and titles keep the full name.
 */
export const shortModule = (m: string) =>
  m
    .replace(/^self_attn\./, 'attn.')
    .replace(/_proj$/, '')
    .replace('attention', 'attn')
    .replace('feedforward', 'ffn')
    .replace(/layernorm$/, 'norm');

/** Row labels are 11 px text: no glyph of it is wider than this on average over a label (upper bound, "m" and "w" included). */
const LABEL_CHAR_WIDTH = 6.6;
/** The margin left of the grid: the usual 132 px, wider when a shortened label would not fit beside the "module" title. */
export function rowLabelMargin(modules: readonly string[]): number {
  const longest = Math.max(0, ...modules.map((m) => shortModule(m).length));
  return Math.max(132, 24 + Math.ceil(longest * LABEL_CHAR_WIDTH));
}

/** Cell widths a grid is drawn at: narrower cannot be hit with a mouse, wider wastes the page. */
export const MIN_CELL_WIDTH = 6;
export const MAX_CELL_WIDTH = 34;

export function heatmapLayout(
  grid: HeatmapGrid,
  availableWidth: number,
  opts: { rowLabels?: boolean; axisNames?: AxisNames } = {},
): HeatmapLayout {
  const left = opts.rowLabels === false ? 4 : rowLabelMargin(grid.modules);
  const top = 22;
  const cols = Math.max(1, grid.layers.length);
  const cellW = Math.max(MIN_CELL_WIDTH, Math.min(MAX_CELL_WIDTH, Math.floor((availableWidth - left - 8) / cols)));
  const cellH = 22;
  const rows = Math.max(1, grid.modules.length);
  return {
    left,
    top,
    cellW,
    cellH,
    width: left + cols * cellW + 8,
    height: top + rows * cellH + 4,
    labelEvery: Math.max(1, Math.ceil(22 / cellW)),
    axisTitles:
      opts.rowLabels === false
        ? null
        : { layer: { x: left - 6, y: top / 2 }, module: { x: 10, y: top + (rows * cellH) / 2 }, names: opts.axisNames },
  };
}

/** The cell under a point, or null. */
export function hitTest(grid: HeatmapGrid, l: HeatmapLayout, x: number, y: number): { module: string; layer: number } | null {
  const col = Math.floor((x - l.left) / l.cellW);
  const row = Math.floor((y - l.top) / l.cellH);
  if (x < l.left || y < l.top || col < 0 || row < 0 || col >= grid.layers.length || row >= grid.modules.length) return null;
  return { module: grid.modules[row], layer: grid.layers[col] };
}
