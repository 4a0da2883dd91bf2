import type { HeatmapGrid } from '../../state/heatmap-data.ts';
import { cellKey } from '../../state/heatmap-data.ts';
import { FAILED, FLAG_FILL, flagSize, PENDING, type Painter } from './colors.ts';
import { AXIS_TITLE_COLOR, AXIS_TITLES, shortModule, type HeatmapLayout } from './layout.ts';

/** Text as SVG text: names come from files and are never markup. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export interface SvgPanel {
  grid: HeatmapGrid;
  layout: HeatmapLayout;
  painter: Painter;
  title: string;
}

const HATCH =
  '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/><path d="M0,6 L6,0" stroke="#111" stroke-width="1.5"/></pattern></defs>';

/** The heatmap as a standalone SVG document (the same geometry and colours as the canvas). */
export function heatmapSvg(grid: HeatmapGrid, l: HeatmapLayout, painter: Painter, title: string): string {
  return panelsSvg([{ grid, layout: l, painter, title }]);
}

/** Several heatmaps side by side (the phases of a plan), one SVG document. */
export function panelsSvg(panels: readonly SvgPanel[], gap = 16): string {
  const width = panels.reduce((w, p) => w + p.layout.width, 0) + gap * Math.max(0, panels.length - 1);
  const height = Math.max(...panels.map((p) => p.layout.height)) + 24;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    HATCH,
  ];
  let x = 0;
  for (const p of panels) {
    parts.push(`<g transform="translate(${x},0)">`, panelBody(p), '</g>');
    x += p.layout.width + gap;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function panelBody({ grid, layout: l, painter, title }: SvgPanel): string {
  const parts: string[] = [];
  parts.push(`<text x="4" y="14" font-size="13" font-weight="600">${xmlText(title)}</text>`);
  parts.push('<g transform="translate(0,24)">');
  grid.modules.forEach((m, row) => {
    parts.push(
      `<text x="${l.left - 6}" y="${l.top + row * l.cellH + l.cellH / 2}" text-anchor="end" dominant-baseline="middle" fill="#495057">${xmlText(shortModule(m))}</text>`,
    );
  });
  if (l.axisTitles) {
    const { layer, module } = l.axisTitles;
    const names = l.axisTitles.names ?? AXIS_TITLES;
    parts.push(
      `<text x="${layer.x}" y="${layer.y}" text-anchor="end" dominant-baseline="middle" font-style="italic" fill="${AXIS_TITLE_COLOR}">${xmlText(names.layer)}</text>`,
      `<text transform="translate(${module.x},${module.y}) rotate(-90)" text-anchor="middle" dominant-baseline="middle" font-style="italic" fill="${AXIS_TITLE_COLOR}">${xmlText(names.module)}</text>`,
    );
  }
  grid.layers.forEach((layer, col) => {
    if (col % l.labelEvery === 0)
      parts.push(
        `<text x="${l.left + col * l.cellW + l.cellW / 2}" y="${l.top / 2}" text-anchor="middle" dominant-baseline="middle" fill="#495057">${layer}</text>`,
      );
  });
  grid.modules.forEach((m, row) => {
    grid.layers.forEach((layer, col) => {
      const key = cellKey(m, layer);
      const r = grid.cells.get(key);
      const paint = painter.paint(r);
      const failed = !r ? grid.failed.get(key) : undefined;
      const fill = failed ? FAILED : paint.kind === 'fill' ? paint.color : paint.kind === 'hatch' ? 'url(#hatch)' : PENDING;
      const label = r ? `<title>${xmlText(r.name)}</title>` : failed ? `<title>${xmlText(failed.message)}</title>` : '';
      parts.push(
        `<rect x="${l.left + col * l.cellW + 0.5}" y="${l.top + row * l.cellH + 0.5}" width="${l.cellW - 1}" height="${l.cellH - 1}" fill="${fill}">${label}</rect>`,
      );
      if (painter.flag?.(r)) {
        const f = flagSize(l.cellW, l.cellH);
        const right = l.left + col * l.cellW + l.cellW - 0.5;
        const top = l.top + row * l.cellH + 0.5;
        parts.push(
          `<path class="snr-flag" d="M${right - f},${top} L${right},${top} L${right},${top + f} Z" fill="${FLAG_FILL}" stroke="#fff" stroke-width="1"/>`,
        );
      }
      if (painter.finger?.(r)) {
        const f = flagSize(l.cellW, l.cellH);
        const left = l.left + col * l.cellW + 0.5;
        const bottom = l.top + row * l.cellH + l.cellH - 0.5;
        parts.push(
          `<path class="alpha-finger" d="M${left},${bottom - f} L${left},${bottom} L${left + f},${bottom} Z" fill="#fff" stroke="${FLAG_FILL}" stroke-width="1"/>`,
        );
      }
      const mark = painter.mark?.(r);
      if (mark) {
        const rad = Math.max(2, Math.min(4, l.cellW / 4));
        const paintAttr = mark === 'added' ? 'fill="#fff"' : 'fill="none" stroke="#fff" stroke-width="1.5"';
        parts.push(
          `<circle cx="${l.left + col * l.cellW + l.cellW / 2}" cy="${l.top + row * l.cellH + l.cellH / 2}" r="${rad}" ${paintAttr}/>`,
        );
      }
    });
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** Render an SVG document to a PNG (for the picture exports). */
export async function svgToPng(svg: string, scale = 2): Promise<Blob | null> {
  const img = new Image();
  img.src = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(img.width * scale);
    canvas.height = Math.ceil(img.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    return await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  } finally {
    URL.revokeObjectURL(img.src);
  }
}
