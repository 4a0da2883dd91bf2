import { describe, expect, it } from 'vitest';
import { errorRecord } from '../core/errors.ts';
import { groupErrors, whatFailed } from './error-groups.ts';

describe('groupErrors', () => {
  it('puts errors that share a code and a detail (numbers aside) in one group, tensors in natural order', () => {
    // layers written 0, 1, 10, 11, 2, …: the order a string sort gives
    const layers = [0, 1, 10, 11, 2, 3];
    const errors = [
      ...layers.map((l) =>
        errorRecord('UNKNOWN_DTYPE', 'm.safetensors', `model.layers.${l}.mlp.up_proj.weight`, 'dtype I8 is not a floating-point weight'),
      ),
      errorRecord('TRUNCATED', 'm.safetensors', 'model.layers.7.self_attn.q_proj.weight', 'bytes 100–200 lie past the end (150 bytes)'),
      errorRecord('TRUNCATED', 'm.safetensors', 'model.layers.12.self_attn.q_proj.weight', 'bytes 300–400 lie past the end (150 bytes)'),
    ];
    const groups = groupErrors(errors);
    expect(groups.map((g) => [g.code, g.errors.length, g.numbersVary])).toEqual([
      ['UNKNOWN_DTYPE', 6, false],
      ['TRUNCATED', 2, true],
    ]);
    expect(groups[0].detail).toBe('dtype I8 is not a floating-point weight');
    // the offsets differ, the file's size is the same in both
    expect(groups[1].detail).toBe('bytes …–… lie past the end (150 bytes)');
    expect(groups[0].errors.map((e) => e.tensor)).toEqual([0, 1, 2, 3, 10, 11].map((l) => `model.layers.${l}.mlp.up_proj.weight`));
    expect(groups[1].errors.map((e) => e.tensor)).toEqual([
      'model.layers.7.self_attn.q_proj.weight',
      'model.layers.12.self_attn.q_proj.weight',
    ]);
  });

  it('keeps a different code, or different words, apart', () => {
    const groups = groupErrors([
      errorRecord('READ_FAILED', 'a.safetensors', 'x', 'permission denied'),
      errorRecord('READ_FAILED', 'a.safetensors', 'y', 'file vanished'),
      errorRecord('TRUNCATED', 'a.safetensors', 'z', 'file vanished'),
      errorRecord('MISSING_SHARD', 'b.safetensors', undefined, 'the shard is absent'),
    ]);
    expect(groups).toHaveLength(4);
    expect(groups.find((g) => g.code === 'MISSING_SHARD')?.detail).toBe('the shard is absent');
  });
});

describe('whatFailed', () => {
  it('says tensors failed, or that the file itself could not be read', () => {
    const tensor = (t: string) => errorRecord('TRUNCATED', 'm.safetensors', t, 'cut short');
    expect(whatFailed([tensor('a'), tensor('b')])).toBe('all 2 tensors failed');
    expect(whatFailed([tensor('a')])).toBe('its one tensor failed');
    expect(whatFailed([errorRecord('HEADER_TOO_SHORT', 'empty.safetensors', undefined, 'file is 0 bytes')])).toBe(
      'the file could not be read',
    );
  });
});
