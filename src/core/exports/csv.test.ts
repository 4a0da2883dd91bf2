import { describe, expect, it } from 'vitest';
import { csvText } from './csv.ts';

describe('CSV text cells', () => {
  it.each([
    ['model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.up_proj.weight'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['a,b', '"a,b"'],
    ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
  ])('%s → %s', (input, output) => expect(csvText(input)).toBe(output));
});
