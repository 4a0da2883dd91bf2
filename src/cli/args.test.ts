import { describe, expect, it } from 'vitest';
import { choice, option, parseArgs, percents, UsageError } from './args.ts';

const usage = (argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseArgs', () => {
  it('splits the command, its positional arguments, switches and options with values', () => {
    const args = parseArgs(['scan', 'a.safetensors', '--out', 'o', '--csv', 'b.safetensors', '--engine=cpu', '-h', '--', '--odd-name']);
    expect(args.command).toBe('scan');
    expect(args.positional).toEqual(['a.safetensors', 'b.safetensors', '--odd-name']);
    expect([...args.options]).toEqual([
      ['out', ['o']],
      ['csv', []],
      ['engine', ['cpu']],
      ['help', []],
    ]);
  });

  it('gives --percent the numbers that follow it, and adds repeats to the list', () => {
    const args = parseArgs(['phases', 'a', '--percent', '25', '20', '1.5', 'b', '--percent', '10', '12', '--quiet', '7']);
    expect(percents(args, [])).toEqual([25, 20, 1.5, 10, 12]);
    expect(args.positional).toEqual(['a', 'b', '7']);
    expect(percents(parseArgs(['scan', 'm']), [25])).toEqual([25]);
  });

  it('keeps the last value of an option given twice', () => {
    expect(option(parseArgs(['scan', '--out', 'a', '--out', 'b']), 'out')).toBe('b');
  });

  it('says in one line what is wrong with the options', () => {
    expect(usage(['scan', '--outt', 'dir'])).toBe('unknown option --outt');
    expect(usage(['scan', '-percent', '25'])).toBe('unknown option -percent (long options take two dashes: --percent)');
    expect(usage(['scan', 'm', '--out'])).toBe('--out needs a value');
    expect(usage(['scan', 'm', '--percent', '--csv'])).toBe(
      '--percent needs a value, not the option "--csv" (write --percent=--csv for a value that starts with -)',
    );
    expect(usage(['scan', '--csv=yes'])).toBe('--csv takes no value (got "--csv=yes")');
    for (const message of [usage(['scan', '--outt']), usage(['scan', '--out'])]) expect(message).not.toContain('\n');
  });

  it('checks choices and percents', () => {
    const args = parseArgs(['scan', '--engine', 'tpu', '--percent', '101']);
    expect(() => choice(args, 'engine', ['auto', 'cpu'], 'auto')).toThrow('--engine must be one of auto, cpu (got "tpu")');
    expect(choice(parseArgs(['scan']), 'engine', ['auto', 'cpu'], 'auto')).toBe('auto');
    expect(() => percents(args, [])).toThrow('--percent values must be numbers from 0 to 100 (got "101")');
    expect(() => percents(parseArgs(['scan', '--percent', '2.5.1']), [])).toThrow(UsageError);
  });
});
