import { readFile } from 'node:fs/promises';
import { ScanError } from '../../core/errors.ts';
import {
  chooseHeads,
  headScores,
  parseHeadsFile,
  rewind,
  withHeadShares,
  type HeadRef,
  type RewindReport,
} from '../../core/rewrite/rewind.ts';
import { UsageError, option, type ParsedArgs } from '../args.ts';
import {
  checkpointFileNames,
  finishRewrite,
  fileOutputFolder,
  openPair,
  outputDir,
  refuseExisting,
  regexOption,
} from '../rewrite-output.ts';
import type { ScanStop } from '../signals.ts';

function headsPercent(args: ParsedArgs): number | undefined {
  const v = option(args, 'heads');
  if (v === undefined) return undefined;
  const n = /^(\d+\.?\d*|\.\d+)%?$/.test(v) ? Number(v.replace(/%$/, '')) : NaN;
  if (!(n > 0 && n <= 100)) throw new UsageError(`--heads must be a percent above 0 and at most 100, such as 15% (got "${v}")`);
  return n;
}

/**
 * `rewind BASE FINETUNED (--heads 15% [--per-layer] | --heads-file F) [--matrices REGEX] --out DIR`:
 * the fine-tuned checkpoint with the chosen heads (and whole matrices) put back to the base's bytes.
 */
export async function rewindCommand(args: ParsedArgs, stop: ScanStop): Promise<{ report: RewindReport; dir: string }> {
  const percent = headsPercent(args);
  const headsFile = option(args, 'heads-file');
  const matrices = regexOption(args, 'matrices');
  if (percent === undefined && headsFile === undefined && matrices === undefined)
    throw new UsageError('rewind needs --heads PERCENT, --heads-file FILE or --matrices REGEX');
  if (percent !== undefined && headsFile !== undefined) throw new UsageError('rewind takes --heads or --heads-file, not both');
  const dir = await outputDir(args, 'rewind');
  const force = args.options.has('force');
  const opened = await openPair(args, 'rewind');
  const folder = fileOutputFolder(dir, force);
  try {
    const { pair } = opened;
    const { weights, index, config } = checkpointFileNames(pair, opened.ft);
    const side = new Map(config ? [['config.json', new Uint8Array(await readFile(config))]] : []);
    await refuseExisting(
      dir,
      [
        ...weights,
        ...(index ? ['model.safetensors.index.json'] : []),
        ...side.keys(),
        'rewound-heads.json',
        'rewind-report.json',
        'rewind-report.md',
      ],
      force,
    );
    let heads: (HeadRef & { energy?: number; share?: number })[] = [];
    if (percent !== undefined || headsFile !== undefined) {
      const scores = await headScores(pair, stop.signal);
      if (scores.length === 0)
        throw new UsageError(
          `rewind: ${pair.ft.name} has no attention heads to choose from (heads are known for separate q_proj, k_proj, v_proj and o_proj weights with config.json's num_attention_heads); --matrices REGEX rewinds whole weights`,
          false,
        );
      let chosen: HeadRef[];
      if (headsFile !== undefined) {
        const text = await readFile(headsFile, 'utf8').catch((e: unknown) => {
          throw new ScanError('READ_FAILED', headsFile, undefined, `could not be read: ${e instanceof Error ? e.message : String(e)}`);
        });
        chosen = parseHeadsFile(text, headsFile, pair);
      } else {
        chosen = chooseHeads(scores, percent!, args.options.has('per-layer'));
        process.stderr.write(
          `${chosen.length} of ${scores.length} heads chosen (top ${percent} %${args.options.has('per-layer') ? ' per layer' : ''})\n`,
        );
      }
      heads = withHeadShares(scores, chosen);
    }
    const whole = matrices ? pair.matrices.filter((m) => !m.vector && matrices.test(m.name)).map((m) => m.name) : [];
    if (matrices && whole.length === 0) throw new UsageError(`--matrices ${matrices.source} matches no weight of ${pair.ft.name}`, false);
    const report = await rewind(pair, folder, { heads, matrices: whole }, { index, sideFiles: side, signal: stop.signal });
    await finishRewrite(folder, { kind: 'rewind', report });
    return { report, dir };
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    await opened.close();
  }
}
