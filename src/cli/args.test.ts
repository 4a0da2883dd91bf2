import { describe, expect, it } from 'vitest';
import { choice, memoryBudget, option, parseArgs, percents, seconds, threads, UsageError } from './args.ts';

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
    expect(() => percents(args, [])).toThrow('--percent values must be numbers above 0 and at most 100 (got "101")');
    expect(() => percents(parseArgs(['scan', '--percent', '2.5.1']), [])).toThrow(UsageError);
  });

  it('reads numbers only as typed in decimal: --percent in (0, 100], --threads whole up to 4 per core, seconds above 0', () => {
    const given = (name: string, v: string) => parseArgs(['scan', `--${name}=${v}`]);
    for (const p of ['', '0', '0.0', '50%', '0x10', '1e2', '-5', '+5', '101', '100.01', ' 5', 'NaN', 'Infinity'])
      expect(() => percents(given('percent', p), []), p).toThrow(`--percent values must be numbers above 0 and at most 100 (got "${p}")`);
    expect(percents(parseArgs(['scan', '--percent', '0.5', '100', '.5', '7.']), [])).toEqual([0.5, 100, 0.5, 7]);

    expect(threads(parseArgs(['scan']), 2)).toBeUndefined();
    expect(threads(given('threads', '1'), 2)).toBe(1);
    expect(threads(given('threads', '8'), 2)).toBe(8);
    for (const t of ['9', '0', '1.5', '-1', '', '0x2', '2e0', 'two', '99999999999999999999'])
      expect(() => threads(given('threads', t), 2), t).toThrow(
        `--threads must be a whole number from 1 to 8 (4 per core, 2 cores) (got "${t}")`,
      );
    expect(() => threads(given('threads', '13'), 3)).toThrow('from 1 to 12 (4 per core, 3 cores)');

    expect(seconds(parseArgs(['watch']), 'interval', 10)).toBe(10);
    expect(seconds(given('interval', '0.5'), 'interval', 10)).toBe(0.5);
    expect(seconds(given('interval', '86400'), 'interval', 10)).toBe(86400);
    for (const v of ['0', '-1', '', 'inf', 'Infinity', 'NaN', '1e3', '86401', '10s'])
      expect(() => seconds(given('interval', v), 'interval', 10), v).toThrow(
        `--interval must be a number of seconds above 0 and at most 86400 (a day) (got "${v}")`,
      );

    expect(memoryBudget(parseArgs(['scan']))).toBeUndefined();
    expect(memoryBudget(given('memory-budget', '8G'))).toBe(8 * 2 ** 30);
    expect(memoryBudget(given('memory-budget', '512MiB'))).toBe(512 * 2 ** 20);
    expect(memoryBudget(given('memory-budget', '1.5g'))).toBe(1.5 * 2 ** 30);
    for (const v of ['', '0', '-1G', 'lots', '8 GB of RAM', '1e9'])
      expect(() => memoryBudget(given('memory-budget', v)), v).toThrow(
        `--memory-budget must be a size such as 512M, 8G or 8GiB (got "${v}")`,
      );
  });
});
