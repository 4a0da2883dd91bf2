import { describe, expect, it } from 'vitest';
import { readPercent } from './percent-input.ts';

describe('readPercent', () => {
  it('reads percents from 1 to 100, ends included', () => {
    expect(readPercent('1')).toEqual({ ok: true, value: 1 });
    expect(readPercent('25')).toEqual({ ok: true, value: 25 });
    expect(readPercent('12.5')).toEqual({ ok: true, value: 12.5 });
    expect(readPercent('100')).toEqual({ ok: true, value: 100 });
  });

  it('refuses what is outside the range and says why', () => {
    expect(readPercent('150')).toEqual({ ok: false, reason: '150: the percent is from 1 to 100' });
    expect(readPercent('0')).toEqual({ ok: false, reason: '0: the percent is from 1 to 100' });
    expect(readPercent('0.5')).toEqual({ ok: false, reason: '0.5: the percent is from 1 to 100' });
    expect(readPercent('100.01')).toEqual({ ok: false, reason: '100.01: the percent is from 1 to 100' });
  });

  it('never reads an empty field or odd notations as a number', () => {
    expect(readPercent('')).toEqual({ ok: false, reason: 'Enter a percent from 1 to 100' });
    expect(readPercent('  ')).toEqual({ ok: false, reason: 'Enter a percent from 1 to 100' });
    expect(readPercent('0x10').ok).toBe(false);
    expect(readPercent('1e1').ok).toBe(false);
    expect(readPercent('-5').ok).toBe(false);
  });
});
