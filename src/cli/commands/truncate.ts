import type { TopTriplets } from '../../core/rewrite/low-rank-fn.ts';
import { truncateUpdate, type TruncateReport } from '../../core/rewrite/truncate.ts';
import type { ParsedArgs } from '../args.ts';
import {
  checkpointFileNames,
  finishRewrite,
  fileOutputFolder,
  openPair,
  outputDir,
  rankTarget,
  refuseExisting,
} from '../rewrite-output.ts';
import type { ScanStop } from '../signals.ts';
import { readFile } from 'node:fs/promises';

/**
 * `truncate BASE FINETUNED (--energy 0.95 | --rank R) --out DIR`: BASE + ΔW truncated per matrix,
 * in the fine-tuned checkpoint's layout and dtypes (docs/rewrite.md).
 */
export async function truncateCommand(
  args: ParsedArgs,
  stop: ScanStop,
  lowRank: TopTriplets,
): Promise<{ report: TruncateReport; dir: string }> {
  const target = rankTarget(args, 'truncate');
  const dir = await outputDir(args, 'truncate');
  const force = args.options.has('force');
  const opened = await openPair(args, 'truncate');
  const folder = fileOutputFolder(dir, force);
  try {
    const { weights, index, config } = checkpointFileNames(opened.pair, opened.ft);
    const side = new Map(config ? [['config.json', new Uint8Array(await readFile(config))]] : []);
    await refuseExisting(
      dir,
      [...weights, ...(index ? ['model.safetensors.index.json'] : []), ...side.keys(), 'truncate-report.json', 'truncate-report.md'],
      force,
    );
    const quiet = args.options.has('quiet');
    let done = 0;
    const report = await truncateUpdate(opened.pair, lowRank, folder, target, {
      index,
      sideFiles: side,
      signal: stop.signal,
      onMatrix: (m) => {
        if (!quiet) process.stderr.write(`[${++done}] ${m.tensor}: rank ${m.rank}, ${(m.kept_energy * 100).toFixed(1)} % of the energy\n`);
      },
    });
    await finishRewrite(folder, { kind: 'truncate', report });
    return { report, dir };
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    await opened.close();
  }
}
