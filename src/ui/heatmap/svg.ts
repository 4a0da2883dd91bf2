import type { HeatmapGrid } from '../../state/derive.ts';
import { cellKey } from '../../state/derive.ts';
import { FAILED, PENDING, type Painter } from './colors.ts';
import type { HeatmapLayout } from './layout.ts';
import { shortModule } from './draw.ts';

/** Text as SVG text: names come from files and are never markup. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The heatmap as a standalone SVG document (the same geometry and colours as the canvas). */
export function heatmapSvg(grid: HeatmapGrid, l: HeatmapLayout, painter: Painter, title: string): string {
  const parts: string[] = [];
  const height = l.height + 24;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${height}" viewBox="0 0 ${l.width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/><path d="M0,6 L6,0" stroke="#111" stroke-width="1.5"/></pattern></defs>');
  parts.push(`<text x="4" y="14" font-size="13" font-weight="600">${xmlText(title)}</text>`);
  parts.push('<g transform="translate(0,24)">');
  grid.modules.forEach((m, row) => {
    parts.push(`<text x="${l.left - 6}" y="${l.top + row * l.cellH + l.cellH / 2}" text-anchor="end" dominant-baseline="middle" fill="#495057">${xmlText(shortModule(m))}</text>`);
  });
  grid.layers.forEach((layer, col) => {
    if (col % l.labelEvery === 0) parts.push(`<text x="${l.left + col * l.cellW + l.cellW / 2}" y="${l.top / 2}" text-anchor="middle" dominant-baseline="middle" fill="#495057">${layer}</text>`);
  });
  grid.modules.forEach((m, row) => {
    grid.layers.forEach((layer, col) => {
      const key = cellKey(m, layer);
      const r = grid.cells.get(key);
      const paint = painter.paint(r);
      const failed = !r ? grid.failed.get(key) : undefined;
      const fill = failed ? FAILED : paint.kind === 'fill' ? paint.color : paint.kind === 'hatch' ? 'url(#hatch)' : PENDING;
      const label = r ? `<title>${xmlText(r.name)}</title>` : failed ? `<title>${xmlText(failed.message)}</title>` : '';
      parts.push(`<rect x="${l.left + col * l.cellW + 0.5}" y="${l.top + row * l.cellH + 0.5}" width="${l.cellW - 1}" height="${l.cellH - 1}" fill="${fill}">${label}</rect>`);
    });
  });
  parts.push('</g></svg>');
  return parts.join('\n');
}
