import { ScanError } from '../core/errors.ts';
import { TOOL_VERSION } from '../core/exports/metrics-json.ts';
import { deltaCounts } from '../core/exports/delta-metrics.ts';
import { parseArgs, UsageError } from './args.ts';
import { memoryReport } from './memory.ts';
import { prepareOutputFolder } from './output.ts';
import { interruptOnSignals, type Interruption } from './signals.ts';
import { scanCheckpoint, scanSettings, writeResults } from './commands/scan.ts';
import { compareCommand } from './commands/compare.ts';
import { extractLoraCommand } from './commands/extract-lora.ts';
import { rewindCommand } from './commands/rewind.ts';
import { truncateCommand } from './commands/truncate.ts';
import { isAbort } from './rewrite-output.ts';
import { intrudersCommand } from './commands/intruders.ts';
import { topSingularTripletsCpuAsync } from '../engine/low-rank/randomized-svd.ts';
import { phasesCommand } from './commands/phases.ts';
import { planCommand } from './commands/plan.ts';
import { selectCommand } from './commands/select.ts';
import { timelineCommand } from './commands/timeline.ts';
import { watchCommand } from './commands/watch.ts';

const USAGE = `spectral-workbench ${TOOL_VERSION} — spectral analysis of neural-network weights

Usage:
  spectral-workbench scan <model.safetensors | folder | files...> --out DIR [options]
      --percent 25 20 15          Spectrum selections to write (one YAML each; default 25)
      --engine auto|webgpu|cpu    (default auto)
      --mode exact|fast           (default exact)
      --spectrum-variant current|legacy   legacy reproduces the Infinity values of older Spectrum files
      --only REGEX                analyse only tensors whose name matches
      --model-name NAME           name used in Spectrum's file names (default: file or folder name)
      --threads N                 worker threads (default: one per core; at most 4 per core)
      --memory-budget SIZE        memory the matrices analysed at once may hold, e.g. 8G (default: 3/4 of the machine's)
      --force                     a scan stopped early replaces a complete result in DIR (else: DIR/partial-<time>/)
      --csv                       also write metrics.csv (one row per matrix)
      --farms                     also FARMS alpha (alpha_farms: 100 windows per matrix; ~9× the demo's scan time)
      --report-memory             print the peak resident memory at the end (worker threads included)
  spectral-workbench phases <base> <phase1> <phase2>... --percent 25 20 15 --out DIR
      scans each checkpoint in training order; writes each phase's files and transitions.md / .json
  spectral-workbench compare <A> <B> --out DIR [--csv] [--engine ...] [--only REGEX] [--threads N]
      ΔW = W_B − W_A for every matrix both hold (each a file or a folder): ‖ΔW‖/‖W‖, stable rank,
      share of ΔW's singular values that can go keeping 90/95/99% of its energy, per-head shares;
      writes delta.json (delta.csv with --csv); matrices B leaves as they were are "unchanged"
  spectral-workbench intruders <base> <fine-tuned> --only REGEX --out DIR [--k 10] [--threshold 0.5] [--side left|right]
      intruder dimensions (arXiv 2410.21228): each matching matrix's top k singular vectors of the fine-tuned
      checkpoint and the largest |cos| of each with the base's; below the threshold an intruder (defaults: the
      paper's code, top 10 left singular vectors, 0.5); writes intruders.json and intruders.md
  spectral-workbench extract-lora <base> <fine-tuned> --out DIR (--rank R | --energy 0.9) [--only REGEX] [--force]
      a PEFT LoRA adapter of ΔW = fine-tuned − base (top singular triplets per matrix, √σ in A and B);
      writes adapter_model.safetensors, adapter_config.json and extract-lora-report.json/.md
  spectral-workbench rewind <base> <fine-tuned> --out DIR (--heads 15% [--per-layer] | --heads-file F) [--matrices REGEX]
      the fine-tuned checkpoint with the heads carrying most of ‖ΔW‖² (q/k/v rows, o_proj columns) or the
      matrices matching REGEX put back to the base's bytes; same files, shards and dtypes
  spectral-workbench truncate <base> <fine-tuned> --out DIR (--energy 0.95 | --rank R)
      base + ΔW truncated per matrix to a rank or an energy share, in the fine-tuned checkpoint's layout
  spectral-workbench watch <training-output-folder> --percent 20 --out DIR [--interval 10] [--once]
      rescans each new checkpoint that appears and writes the next phase's YAML
  spectral-workbench timeline <training-output-folder | checkpoints in order...> --out DIR [scan's options]
      scans every checkpoint of a run (checkpoint-<step>/, step_1000, global_step1000, ckpt-1k, epoch-3; newest and
      oldest first) and writes timeline.json, timeline.csv (step, checkpoint, layer, module, metric, value) and
      timeline.md: depth gradient and peak layer per module type, the compression wave, Q/K vs V/O
  spectral-workbench plan <checkpoint | metrics.json | snr_results_model.json> --out DIR [--force]
      --lr 2e-5 --lr-rule tempbalance|snr   layer-wise learning rates (TempBalance: alpha; SNR: rank within type)
      --sparsity 0.5 --epsilon 0.3          AlphaPruning's block sparsity (by mean alpha_peak)
      --percent 25                          the Spectrum selection written with the lr_groups
      --rank-by mp|90|95|99                 the rank in rank_pattern.json (MP rank, or % of Σσ²)
      writes lr_groups.yaml (axolotl), lr_groups.json, sparsity.json, drop-order.json, rank_pattern.json (PEFT),
      laser.json and plan.json; a Spectrum JSON gives the SNR rule only (docs/plans.md)
  spectral-workbench select <snr_results_model.json> --percent 50 [--out DIR]
      Spectrum's unfrozen-parameters YAML from a Spectrum JSON (raw or _sorted layout)

Writes metrics.json, snr_results_<model>.json and snr_results_<model>_unfrozenparameters_<P>percent.yaml.
Ctrl-C cancels (what is done is written; metrics.json says "complete": false); twice, or SIGTERM, stops at once.
Exit codes: 0 done, 1 usage, 2 bad input (the good tensors are still analysed and written), 130 cancelled, 143 SIGTERM.`;

/** The commands that scan: Ctrl-C (twice: at once) and SIGTERM stop them, and what is done is still written. */
const SCANNING = new Set(['scan', 'phases', 'compare', 'watch', 'timeline', 'plan', 'intruders', 'extract-lora', 'rewind', 'truncate']);

export async function main(argv: string[]): Promise<number> {
  let interruption: Interruption | undefined;
  try {
    const args = parseArgs(argv); // an unknown option or a missing value is a UsageError, reported below
    if (!args.command || args.command === 'help' || args.options.has('help')) {
      process.stdout.write(`${USAGE}\n`);
      return args.command ? 0 : 1;
    }
    if (args.command === 'version' || args.command === '--version') {
      process.stdout.write(`${TOOL_VERSION}\n`);
      return 0;
    }
    if (SCANNING.has(args.command)) interruption = interruptOnSignals();
    const stop = interruption ?? { signal: new AbortController().signal, now: new AbortController().signal };
    // a signal that came while the results were being written still makes the exit code non-zero
    const stoppedCode = () => interruption?.exitCode ?? 130;
    switch (args.command) {
      case 'scan': {
        if (args.positional.length === 0) throw new UsageError('scan needs a checkpoint: a .safetensors file, shard files, or a folder');
        const settings = scanSettings(args);
        await prepareOutputFolder(settings.out);
        const result = await scanCheckpoint(args.positional, settings, stop);
        const dir = await writeResults(result, settings);
        const cut = result.cancelled ? ` (stopped early: ${result.notAnalysed.length} not analysed)` : '';
        process.stderr.write(`${result.records.length} matrices analysed${cut}, ${result.errors.length} errors; results in ${dir}\n`);
        if (args.options.has('report-memory')) process.stderr.write(memoryReport());
        if (result.cancelled || interruption?.exitCode) return stoppedCode();
        return result.errors.length > 0 ? 2 : 0;
      }
      case 'phases': {
        const r = await phasesCommand(args, stop);
        return r.cancelled || interruption?.exitCode ? stoppedCode() : r.errors > 0 ? 2 : 0;
      }
      case 'compare': {
        const { result, files, dir } = await compareCommand(args, stop);
        const { changed, unchanged } = deltaCounts(result.records);
        const nonFinite = result.records.length - changed - unchanged;
        process.stderr.write(
          `${result.records.length} ΔW analysed (${changed} changed, ${unchanged} unchanged${nonFinite ? `, ${nonFinite} non-finite` : ''}), ${result.errors.length} errors; wrote ${files.join(', ')} in ${dir}\n`,
        );
        if (result.cancelled || interruption?.exitCode) return stoppedCode();
        return result.errors.length > 0 ? 2 : 0;
      }
      case 'intruders': {
        const r = await intrudersCommand(args, stop, topSingularTripletsCpuAsync);
        const found = r.reports.reduce((n, m) => n + m.intruders, 0);
        process.stderr.write(
          `${r.reports.length} matrices examined, ${found} intruder dimensions, ${r.errors.length} errors; wrote intruders.json, intruders.md in ${r.dir}\n`,
        );
        if (r.cancelled || interruption?.exitCode) return stoppedCode();
        return r.errors.length > 0 ? 2 : 0;
      }
      case 'extract-lora':
      case 'rewind':
      case 'truncate': {
        try {
          const lowRank = topSingularTripletsCpuAsync;
          const { dir } =
            args.command === 'extract-lora'
              ? await extractLoraCommand(args, stop, lowRank)
              : args.command === 'rewind'
                ? await rewindCommand(args, stop)
                : await truncateCommand(args, stop, lowRank);
          process.stderr.write(`wrote ${dir}\n`);
          return interruption?.exitCode ? stoppedCode() : 0;
        } catch (e) {
          if (isAbort(e)) {
            process.stderr.write('stopped: nothing written\n');
            return stoppedCode();
          }
          throw e;
        }
      }
      case 'watch': {
        const code = await watchCommand(args, stop);
        return code === 130 ? stoppedCode() : code;
      }
      case 'timeline': {
        const r = await timelineCommand(args, stop);
        return r.cancelled || interruption?.exitCode ? stoppedCode() : r.errors > 0 ? 2 : 0;
      }
      case 'plan': {
        const r = await planCommand(args, stop);
        if (r.cancelled || interruption?.exitCode) return stoppedCode();
        for (const path of r.written) process.stderr.write(`wrote ${path}\n`);
        return r.errors > 0 ? 2 : 0;
      }
      case 'select': {
        const { written, refused } = await selectCommand(args);
        for (const e of refused) process.stderr.write(`error: ${e.message}\n`);
        for (const path of written) process.stderr.write(`wrote ${path}\n`);
        return refused.length > 0 ? 2 : 0;
      }
      default:
        throw new UsageError(`unknown command "${args.command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.withUsage ? `error: ${e.message}\n\n${USAGE}\n` : `error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ScanError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    return 2;
  } finally {
    interruption?.dispose();
  }
}
