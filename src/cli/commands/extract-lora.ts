import { extractLora, type ExtractReport } from '../../core/rewrite/extract-lora.ts';
import type { TopTriplets } from '../../core/rewrite/low-rank-fn.ts';
import type { ParsedArgs } from '../args.ts';
import { fileOutputFolder, finishRewrite, openPair, outputDir, rankTarget, refuseExisting, regexOption } from '../rewrite-output.ts';
import type { ScanStop } from '../signals.ts';

export const EXTRACT_FILES = ['adapter_model.safetensors', 'adapter_config.json', 'extract-lora-report.json', 'extract-lora-report.md'];

/**
 * `extract-lora BASE FINETUNED --out DIR (--rank R | --energy 0.9) [--only REGEX]`: a PEFT adapter of
 * ΔW = FINETUNED − BASE (docs/rewrite.md), with a report per module (rank, kept energy, relative error).
 */
export async function extractLoraCommand(
  args: ParsedArgs,
  stop: ScanStop,
  lowRank: TopTriplets,
): Promise<{ report: ExtractReport; dir: string }> {
  const target = rankTarget(args, 'extract-lora');
  const only = regexOption(args, 'only');
  const dir = await outputDir(args, 'extract-lora');
  const force = args.options.has('force');
  await refuseExisting(dir, EXTRACT_FILES, force);
  const opened = await openPair(args, 'extract-lora', only);
  const folder = fileOutputFolder(dir, force);
  try {
    const quiet = args.options.has('quiet');
    const report = await extractLora(opened.pair, lowRank, folder, {
      target,
      signal: stop.signal,
      onModule: (m, done, total) => {
        if (!quiet)
          process.stderr.write(`[${done}/${total}] ${m.module}: rank ${m.rank}, ${(m.kept_energy * 100).toFixed(1)} % of the energy\n`);
      },
    });
    await finishRewrite(folder, { kind: 'extract-lora', report });
    return { report, dir };
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    await opened.close();
  }
}
