import { abortError, ScanError, toErrorRecord, type ErrorRecord } from '../core/errors.ts';
import { openCheckpoint, type Checkpoint } from '../core/formats/checkpoint.ts';
import { writeSmallFile, type RewriteLayout } from '../core/rewrite/checkpoint-writer.ts';
import { extractLora } from '../core/rewrite/extract-lora.ts';
import type { RankTarget, TopTriplets } from '../core/rewrite/low-rank-fn.ts';
import { pairCheckpoints, type CheckpointPair } from '../core/rewrite/pair.ts';
import { rewriteReportFiles, type RewriteReport } from '../core/rewrite/reports.ts';
import { chooseHeads, headScores, rewind, withHeadShares, type HeadRef } from '../core/rewrite/rewind.ts';
import { memoryOutput, textBytes, type OutputFolder } from '../core/rewrite/sink.ts';
import { truncateUpdate } from '../core/rewrite/truncate.ts';
import { blobSource } from './blob-source.ts';
import { directoryOutput, type DirectoryHandle } from './directory-output.ts';

/** What to write from a ΔW pair (docs/rewrite.md): the page's three buttons. */
export type RewriteWhat =
  | { kind: 'extract-lora'; target: RankTarget }
  | { kind: 'truncate'; target: RankTarget }
  | { kind: 'rewind'; percent: number; perLayer: boolean }
  | { kind: 'rewind'; heads: HeadRef[] };

export interface RewriteSide {
  /** the checkpoint's name as the page shows it (the CLI names it the same way: config.json, else the file) */
  name: string;
  files: File[];
}

export interface RewriteRequest {
  what: RewriteWhat;
  base: RewriteSide;
  ft: RewriteSide;
}

export interface RewriteProgress {
  done: number;
  total: number;
  /** the tensor or module just written */
  what: string;
}

export type RewriteOutcome =
  | { ok: true; report: string; files: { name: string; bytes: Uint8Array }[]; written: { name: string; bytes: number }[] }
  | { ok: false; error: ErrorRecord };

async function open(side: RewriteSide): Promise<Checkpoint> {
  const c = await openCheckpoint(side.files.map((f) => blobSource(f)));
  return { ...c, name: side.name };
}

/**
 * One rewrite, start to end, in the worker: both checkpoints opened from their Files, paired (a
 * rewrite that would leave tensors out stops with the error naming file and tensor), then written
 * into `directory` (a folder the user picked: File System Access) or kept in memory for a download
 * (refused above `maxMemoryBytes`: the page says to pick a folder). Never throws: the outcome says.
 */
export async function runRewrite(
  request: RewriteRequest,
  lowRank: TopTriplets,
  opts: { directory?: DirectoryHandle; maxMemoryBytes: number; signal: AbortSignal; onProgress?: (p: RewriteProgress) => void },
): Promise<RewriteOutcome> {
  const { what } = request;
  const memory = opts.directory ? null : memoryOutput();
  let folder: OutputFolder | null = null;
  try {
    const [base, ft] = await Promise.all([open(request.base), open(request.ft)]);
    const pair = pairCheckpoints(base, ft);
    const config = request.ft.files.find((f) => f.name === 'config.json');
    const index = request.ft.files.some((f) => /\.safetensors\.index\.json$/i.test(f.name));
    const sideFiles = new Map(config ? [['config.json', new Uint8Array(await config.arrayBuffer())]] : []);
    const outputBytes = what.kind === 'extract-lora' ? 0 : ft.tensors.reduce((n, t) => n + t.byteLength, 0);
    if (memory && outputBytes > opts.maxMemoryBytes)
      throw new ScanError(
        'TOO_LARGE',
        ft.name,
        undefined,
        `the rewritten checkpoint (${(outputBytes / 2 ** 20).toFixed(0)} MiB) is over the ${(opts.maxMemoryBytes / 2 ** 20).toFixed(0)} MiB a download holds in memory: write it to a folder (Chromium-based browsers) or use the CLI`,
      );
    const out = opts.directory ? await directoryOutput(opts.directory) : memory!;
    folder = out;
    const total = what.kind === 'extract-lora' ? pair.matrices.filter((m) => !m.vector).length : ft.tensors.length;
    let done = 0;
    const tick = (name: string) => opts.onProgress?.({ done: ++done, total, what: name });
    const layout: RewriteLayout = { index, sideFiles, signal: opts.signal, onTensor: (t) => tick(t.name) };
    const reported: RewriteReport =
      what.kind === 'extract-lora'
        ? {
            kind: what.kind,
            report: await extractLora(pair, lowRank, out, { target: what.target, signal: opts.signal, onModule: (m) => tick(m.module) }),
          }
        : what.kind === 'truncate'
          ? { kind: what.kind, report: await truncateUpdate(pair, lowRank, out, what.target, layout) }
          : {
              kind: what.kind,
              report: await rewind(pair, out, { heads: await headsToRewind(pair, what, opts.signal), matrices: [] }, layout),
            };
    // the CLI's report files, JSON and Markdown, beside the output
    const reportFiles = rewriteReportFiles(reported);
    for (const f of reportFiles) await writeSmallFile(out, f.name, textBytes(f.text));
    await out.commit();
    const files = memory ? [...memory.files].map(([name, bytes]) => ({ name, bytes })) : [];
    const written = 'files' in reported.report ? reported.report.files : [];
    return { ok: true, report: reportFiles[0].text, files, written };
  } catch (e) {
    await folder?.abort().catch(() => {});
    const err = e instanceof Error && e.name === 'AbortError' ? abortError() : e;
    return { ok: false, error: toErrorRecord(err, request.ft.name) };
  }
}

/** The heads chosen (top x % by share of ‖ΔW‖², across the model or per layer) or listed, with their energy and share. */
async function headsToRewind(
  pair: CheckpointPair,
  what: Extract<RewriteWhat, { kind: 'rewind' }>,
  signal: AbortSignal,
): Promise<(HeadRef & { energy: number; share: number })[]> {
  const scores = await headScores(pair, signal);
  return withHeadShares(scores, 'heads' in what ? what.heads : chooseHeads(scores, what.percent, what.perLayer));
}
