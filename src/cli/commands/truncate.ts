import type { TopTriplets } from '../../core/rewrite/low-rank-fn.ts';
import { textBytes } from '../../core/rewrite/sink.ts';
import { writeSmallFile } from '../../core/rewrite/checkpoint-writer.ts';
import { truncateUpdate, type TruncateReport } from '../../core/rewrite/truncate.ts';
import type { ParsedArgs } from '../args.ts';
import {
  checkpointFileNames,
  fileOutputFolder,
  markdownTable,
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
    const md = truncateMarkdown(report);
    await writeSmallFile(folder, 'truncate-report.json', textBytes(`${JSON.stringify(report, null, 2)}\n`));
    await writeSmallFile(folder, 'truncate-report.md', textBytes(md));
    await folder.commit();
    process.stdout.write(md);
    return { report, dir };
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    await opened.close();
  }
}

function truncateMarkdown(r: TruncateReport): string {
  const rows = r.matrices.map((m) => [
    m.tensor,
    `${m.shape[0]} × ${m.shape[1]}`,
    m.dtype,
    m.rank,
    (m.kept_energy * 100).toFixed(2),
    m.relative_error.toExponential(3),
    m.rounding_error.toExponential(3),
  ]);
  return [
    `# ${r.finetuned}: the update since ${r.base} truncated`,
    '',
    `${r.target} per matrix. ${r.matrices.length} matrices truncated, ${r.unchanged.length} unchanged (copied), ${r.kept_as_finetuned.length} 1-D weights kept as fine-tuned.`,
    'relative error: ‖ΔW − ΔW_r‖/‖ΔW‖ in float64; rounding: what writing in the dtype adds, ‖(W − BASE) − ΔW_r‖/‖ΔW‖.',
    '',
    markdownTable(['tensor', 'shape', 'dtype', 'rank', 'kept energy %', 'relative error', 'rounding'], rows),
    '',
  ].join('\n');
}
