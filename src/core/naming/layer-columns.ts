/** Past this many layers a model is not real: the file names its layers so (`model.layers.99999999.…`). */
export const MAX_DENSE_LAYERS = 4096;

/**
 * The layer columns of a grid: every layer from 0 to the last one present, so that a missing layer
 * shows as a gap; but a layer number no real model reaches (a crafted name) would make millions of
 * empty columns, so then only the layers present are columns, in order.
 */
export function layerColumns(present: Iterable<number>): number[] {
  const layers = [...new Set(present)].sort((a, b) => a - b);
  const last = layers.at(-1);
  if (last === undefined) return [];
  return last < MAX_DENSE_LAYERS ? Array.from({ length: last + 1 }, (_, i) => i) : layers;
}
