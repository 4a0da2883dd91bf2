import { describe, expect, it } from 'vitest';
import { layerColumns, MAX_DENSE_LAYERS } from './layer-columns.ts';

describe('layerColumns', () => {
  it('every layer from 0 to the last one present, a missing layer as a gap', () => {
    expect(layerColumns([3, 0, 1, 3])).toEqual([0, 1, 2, 3]);
    expect(layerColumns([])).toEqual([]);
    expect(layerColumns([MAX_DENSE_LAYERS - 1])).toHaveLength(MAX_DENSE_LAYERS);
  });

  it('a layer number no model reaches gives only the layers present, not millions of columns', () => {
    expect(layerColumns([0, 99_999_999, 1])).toEqual([0, 1, 99_999_999]);
    expect(layerColumns([Number.MAX_SAFE_INTEGER])).toEqual([Number.MAX_SAFE_INTEGER]);
  });
});
