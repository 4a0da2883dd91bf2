import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { headsFile, MAX_DOWNLOAD_BYTES, type RewriteRun } from '../../state/low-rank.ts';
import { pageHeadPicks, pageRewrites } from '../../state/low-rank-page.ts';
import type { RewriteWhat } from '../../workers/rewrite-run.ts';
import { download, fileNamePart } from '../download.ts';

type Target = { by: 'energy' | 'rank'; value: string };

const LABEL: Record<RewriteWhat['kind'], string> = {
  'extract-lora': 'Extract LoRA',
  rewind: 'Rewind heads',
  truncate: 'Truncate',
};

/** one action per line: what it writes, its parameters, its button (wrapping on a narrow page) */
const ROW = { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '4px 8px' } as const;
const WHAT = { minWidth: '14em' } as const;

type DirectoryPicker = (opts: { mode: 'readwrite' }) => Promise<FileSystemDirectoryHandle>;

/** Chromium's folder picker (File System Access API), where the browser has it. */
function directoryPicker(): DirectoryPicker | null {
  const w = window as Window & { showDirectoryPicker?: DirectoryPicker };
  return typeof w.showDirectoryPicker === 'function' ? w.showDirectoryPicker.bind(window) : null;
}

/** `90` (%) or `16` (rank) as the writers' target, or the reason it is not one. */
function targetOf(t: Target): { rank: number } | { energy: number } | string {
  const n = Number(t.value);
  if (t.by === 'rank') return Number.isInteger(n) && n >= 1 ? { rank: n } : 'the rank is a whole number from 1';
  return n > 0 && n <= 100 ? { energy: n / 100 } : 'the energy is a percent above 0 and at most 100';
}

function TargetInput({ label, target, onChange }: { label: string; target: Target; onChange(t: Target): void }) {
  return (
    <span className="rewrite-target">
      <input
        aria-label={`${label}: ${target.by === 'energy' ? 'energy share in percent' : 'rank'}`}
        type="number"
        min={1}
        max={target.by === 'energy' ? 100 : undefined}
        step={target.by === 'energy' ? 'any' : 1}
        value={target.value}
        onChange={(e) => onChange({ ...target, value: e.target.value })}
        style={{ width: '5em' }}
      />{' '}
      <select aria-label={`${label}: keep`} value={target.by} onChange={(e) => onChange({ ...target, by: e.target.value as Target['by'] })}>
        <option value="energy">% of the energy</option>
        <option value="rank">singular values (rank)</option>
      </select>
    </span>
  );
}

/**
 * Write what the ΔW shows as a new checkpoint (docs/rewrite.md): a LoRA adapter extracted from ΔW,
 * the fine-tuned checkpoint with its most-changed heads put back to the base, or base + ΔW truncated.
 * The writing runs in the low-rank worker, into a folder the user picks where the browser can
 * (File System Access API), else as downloads of at most MAX_DOWNLOAD_BYTES.
 */
export function RewritePanel({ pair, names }: { pair: { fromId: string; toId: string }; names: { from: string; to: string } }) {
  const run = useSyncExternalStore(pageRewrites.subscribe, () => pageRewrites.current);
  const [lora, setLora] = useState<Target>({ by: 'energy', value: '90' });
  const [trunc, setTrunc] = useState<Target>({ by: 'energy', value: '95' });
  const [heads, setHeads] = useState('15');
  const [perLayer, setPerLayer] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const picker = directoryPicker();
  useSyncExternalStore(pageHeadPicks.subscribe, pageHeadPicks.snapshot);
  const picks = pageHeadPicks.list(pair);
  const downloaded = useRef<RewriteRun | null>(null);
  useEffect(() => {
    if (run?.status !== 'done' || run.files.length === 0 || downloaded.current === run) return;
    downloaded.current = run;
    for (const f of run.files) download(f.name, new Blob([f.bytes as Uint8Array<ArrayBuffer>]), 'application/octet-stream');
  }, [run]);
  const start = async (what: RewriteWhat | string) => {
    if (typeof what === 'string') return setProblem(what);
    setProblem(null);
    let directory: FileSystemDirectoryHandle | undefined;
    if (picker) {
      try {
        directory = await picker({ mode: 'readwrite' });
      } catch {
        return; // the picker was closed: nothing to do
      }
    }
    void pageRewrites.start(pair, what, directory);
  };
  const busy = run?.status === 'running';
  const loraTarget = targetOf(lora);
  const truncTarget = targetOf(trunc);
  const percent = Number(heads);
  const headsWhat: RewriteWhat | string =
    percent > 0 && percent <= 100 ? { kind: 'rewind', percent, perLayer } : 'the share of heads is a percent above 0 and at most 100';
  return (
    <section className="rewrite exports" aria-label="Write a new checkpoint">
      <h2>Write a new checkpoint from ΔW</h2>
      <p className="note">
        From {names.to} − {names.from}.{' '}
        {picker
          ? 'Each button asks for a folder to write into (an empty one: existing files are not replaced).'
          : `This browser cannot write into a folder, so the files are downloaded; a download is held in memory, up to ${MAX_DOWNLOAD_BYTES / 2 ** 20} MiB (a LoRA adapter is small; a whole checkpoint above that needs a Chromium-based browser or the CLI).`}
      </p>
      <div className="rewrite-actions" style={{ display: 'grid', gap: '6px', margin: '8px 0' }}>
        <div style={ROW}>
          <span style={WHAT}>A LoRA adapter of ΔW (PEFT), per matrix keeping</span>
          <TargetInput label="Extract LoRA" target={lora} onChange={setLora} />
          <button
            disabled={busy}
            onClick={() => void start(typeof loraTarget === 'string' ? loraTarget : { kind: 'extract-lora', target: loraTarget })}
          >
            Extract LoRA…
          </button>
        </div>
        <div style={ROW}>
          <span style={WHAT}>{names.to} with the heads that carry the most of ‖ΔW‖² put back to the base: the top</span>
          <span>
            <input
              aria-label="Rewind heads: share of heads in percent"
              type="number"
              min={1}
              max={100}
              value={heads}
              onChange={(e) => setHeads(e.target.value)}
              style={{ width: '4em' }}
            />{' '}
            % of heads
          </span>
          <label>
            <input type="checkbox" checked={perLayer} onChange={(e) => setPerLayer(e.target.checked)} /> in each layer
          </label>
          <button disabled={busy} onClick={() => void start(headsWhat)}>
            Rewind heads…
          </button>
        </div>
        <div style={ROW} data-testid="picked-heads">
          <span style={WHAT}>
            {picks.length === 0
              ? 'Or pick heads by hand: click their bars in a matrix detail’s per-head chart.'
              : `${picks.length} head${picks.length === 1 ? '' : 's'} picked in the per-head charts:`}
          </span>
          {picks.length > 0 && (
            <>
              <button disabled={busy} onClick={() => void start({ kind: 'rewind', heads: picks })}>
                Rewind the picked heads…
              </button>
              <button
                onClick={() =>
                  download(
                    `${fileNamePart(names.to)}-heads.json`,
                    headsFile(picks, { base: names.from, finetuned: names.to }),
                    'application/json',
                  )
                }
              >
                Export heads file
              </button>
              <button onClick={() => pageHeadPicks.clear()}>Clear</button>
            </>
          )}
        </div>
        <div style={ROW}>
          <span style={WHAT}>{names.from} + ΔW truncated per matrix, keeping</span>
          <TargetInput label="Truncate" target={trunc} onChange={setTrunc} />
          <button
            disabled={busy}
            onClick={() => void start(typeof truncTarget === 'string' ? truncTarget : { kind: 'truncate', target: truncTarget })}
          >
            Truncate…
          </button>
        </div>
      </div>
      {problem && <p className="warn error-line">{problem}</p>}
      <RewriteStatus run={run} />
    </section>
  );
}

function RewriteStatus({ run }: { run: RewriteRun | null }) {
  if (!run) return null;
  const label = LABEL[run.kind];
  switch (run.status) {
    case 'running':
      return (
        <p role="status" data-testid="rewrite-status">
          <strong>{label}: writing…</strong> {run.progress && `${run.progress.done} / ${run.progress.total} · ${run.progress.what}`}{' '}
          <button onClick={() => pageRewrites.cancel()}>Cancel</button>
        </p>
      );
    case 'cancelled':
      return (
        <p role="status" data-testid="rewrite-status">
          <strong>{label}: cancelled</strong>, nothing was written.
        </p>
      );
    case 'failed':
      return (
        <p className="warn error-line" role="status" data-testid="rewrite-status">
          {label}: {run.message}
        </p>
      );
    case 'done': {
      const written = run.files.length > 0 ? run.files.map((f) => f.name).join(', ') : 'the files listed in the report';
      return (
        <p role="status" data-testid="rewrite-status">
          <strong>{label}: done</strong> — {written} {run.files.length > 0 ? 'downloaded' : `written in ${run.where}`}.
        </p>
      );
    }
  }
}
