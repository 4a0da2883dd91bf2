import { extractLora, type ExtractReport } from '../../core/rewrite/extract-lora.ts';
import type { TopTriplets } from '../../core/rewrite/low-rank-fn.ts';
import { textBytes } from '../../core/rewrite/sink.ts';
import { writeSmallFile } from '../../core/rewrite/checkpoint-writer.ts';
import type { ParsedArgs } from '../args.ts';
import { fileOutputFolder, markdownTable, openPair, outputDir, rankTarget, refuseExisting, regexOption } from '../rewrite-output.ts';
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
    const md = extractMarkdown(report);
    await writeSmallFile(folder, 'extract-lora-report.json', textBytes(`${JSON.stringify(report, null, 2)}\n`));
    await writeSmallFile(folder, 'extract-lora-report.md', textBytes(md));
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

function extractMarkdown(r: ExtractReport): string {
  const rows = r.modules.map((m) => [
    m.module,
    `${m.shape[0]} × ${m.shape[1]}`,
    m.rank,
    (m.kept_energy * 100).toFixed(2),
    m.relative_error.toExponential(3),
  ]);
  return [
    `# LoRA extracted from ${r.finetuned} − ${r.base}`,
    '',
    `${r.target} per module; r = ${r.r}, lora_alpha = ${r.lora_alpha} (alpha = rank for every module: PEFT's scale alpha/r is 1, so B·A is the update).`,
    `${r.modules.length} modules adapted, ${r.unchanged.length} unchanged, ${r.not_adapted.length} 1-D weights not adapted.`,
    '',
    markdownTable(['module', 'out × in', 'rank', 'kept energy %', '‖ΔW − BA‖/‖ΔW‖'], rows),
    '',
  ].join('\n');
}
