import type { MatrixRecord } from '../core/scan/record.ts';
import { cellKey } from '../state/heatmap-data.ts';
import { NO_VALUE, NOT_SELECTED, SELECTED } from './heatmap/colors.ts';
import { shortModule, type HeatmapLayout } from './heatmap/layout.ts';

interface Props {
  /** the 1-D weights inside the blocks, one row per module type (normRows) */
  rows: { modules: string[]; cells: Map<string, MatrixRecord> };
  layers: number[];
  layout: HeatmapLayout;
  isSelected(r: MatrixRecord): boolean;
  percent: number;
}

const ROW_HEIGHT = 12;

/**
 * The norms under the grid, aligned with its columns: the heatmap draws matrices only, but Spectrum
 * scores every 1-D weight too and its YAML lists the selected ones. Always coloured by selection.
 */
export function NormStrip({ rows, layers, layout, isSelected, percent }: Props) {
  if (rows.modules.length === 0) return null;
  const caption = `1-D weights (norms), not in the grid above: selected at ${percent}% (the YAML lists them too)`;
  return (
    <div className="norm-strip">
      {/* HTML, not SVG text: the caption is wider than a grid of few layers */}
      <div className="norm-strip-caption" style={{ marginLeft: layout.left }}>
        {caption}
      </div>
      <svg
        width={layout.width}
        height={rows.modules.length * ROW_HEIGHT + 4}
        role="img"
        aria-label={`1-D weights (norms), selected at ${percent}%: ${rows.modules.join(', ')}`}
      >
        {rows.modules.map((module, row) => {
          const y = row * ROW_HEIGHT;
          return (
            <g key={module} data-module={module}>
              <text x={layout.left - 6} y={y + ROW_HEIGHT / 2} textAnchor="end" dominantBaseline="middle" fontSize={10} fill="#495057">
                <title>{module}</title>
                {shortModule(module)}
              </text>
              {layers.map((layer, col) => {
                const r = rows.cells.get(cellKey(module, layer));
                // not analysed yet, or a layer without this norm
                if (!r) return null;
                const selected = isSelected(r);
                return (
                  <rect
                    key={layer}
                    x={layout.left + col * layout.cellW + 0.5}
                    y={y + 0.5}
                    width={layout.cellW - 1}
                    height={ROW_HEIGHT - 1}
                    fill={r.status === 'non-finite' ? NO_VALUE : selected ? SELECTED : NOT_SELECTED}
                    data-selected={selected}
                  >
                    <title>
                      {r.name}: {r.status === 'non-finite' ? 'non-finite, ' : ''}
                      {selected ? 'selected' : 'not selected'} at {percent}%
                    </title>
                  </rect>
                );
              })}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
