import { describe, expect, it } from 'vitest';
import { fileNamePart, shownFilePart } from './download.ts';

describe('fileNamePart', () => {
  it('keeps a name that is already safe, letters of any script included', () => {
    expect(fileNamePart('phase0-base')).toBe('phase0-base');
    expect(fileNamePart('Qwen2.5-14B_instruct')).toBe('Qwen2.5-14B_instruct');
    expect(fileNamePart('модель-7B')).toBe('модель-7B');
  });

  it('makes each run of other characters, with the dashes beside it, one dash', () => {
    expect(fileNamePart('Org/Name')).toBe('Org-Name');
    expect(fileNamePart('run 3: "final"/v2')).toBe('run-3-final-v2');
    expect(fileNamePart('a\tb\nc*?<>|d')).toBe('a-b-c-d');
    expect(fileNamePart('a - b')).toBe('a-b');
  });

  it('never starts with a dot or a dash, never ends with one, and is never empty', () => {
    expect(fileNamePart('../../etc/passwd')).toBe('etc-passwd');
    expect(fileNamePart('.hidden')).toBe('hidden');
    expect(fileNamePart('--force')).toBe('force');
    expect(fileNamePart('name.')).toBe('name');
    expect(fileNamePart('///')).toBe('unnamed');
    expect(fileNamePart('')).toBe('unnamed');
  });

  it('keeps at most 100 characters', () => {
    expect(fileNamePart('x'.repeat(300))).toBe('x'.repeat(100));
    // cut after a dash: the dash goes too
    expect(fileNamePart(`${'y'.repeat(99)}-zzz`)).toBe('y'.repeat(99));
  });
});

describe('shownFilePart', () => {
  it('names a metric by its id, and the legacy Spectrum score apart from the current one', () => {
    expect(shownFilePart({ mode: 'metric', metric: 'alpha', variant: 'current' }, 25)).toBe('alpha');
    expect(shownFilePart({ mode: 'metric', metric: 'alpha', variant: 'legacy' }, 25)).toBe('alpha');
    expect(shownFilePart({ mode: 'metric', metric: 'snr', variant: 'current' }, 25)).toBe('snr');
    expect(shownFilePart({ mode: 'metric', metric: 'snr', variant: 'legacy' }, 25)).toBe('snr_legacy');
  });

  it('names a selection by its percent, or "selection" where each panel has its own', () => {
    expect(shownFilePart({ mode: 'selection', metric: 'alpha', variant: 'current' }, 25)).toBe('top25pct');
    expect(shownFilePart({ mode: 'selection', metric: 'alpha', variant: 'legacy' }, 20)).toBe('top20pct_legacy');
    expect(shownFilePart({ mode: 'selection', metric: 'snr', variant: 'current' }, null)).toBe('selection');
  });
});
