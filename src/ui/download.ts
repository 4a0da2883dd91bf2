import type { ViewState } from '../state/types.ts';

/**
 * A run of anything but letters, digits, `_`, `.` and `-` (spaces, slashes, `:`, `*`, `?`, quotes, control characters),
 * with the dashes beside it: it becomes one `-` (`run 3: "final"-v2` → `run-3-final-v2`).
 */
const UNSAFE = /-*(?:[^\p{L}\p{N}_.-]+-*)+/gu;

/**
 * Save text or a blob as a file the user downloads (nothing leaves the machine). The name is made safe on every file
 * system (runs of other characters become one `-`, no leading dot): a tab renamed `run 3: "final"` still downloads
 * under a name every system keeps.
 */
export function download(name: string, content: string | Blob, type = 'text/plain'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name.replace(UNSAFE, '-').replace(/^[.-]+/, '') || 'download';
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Longest name part kept: a file name stays well under the 255 bytes file systems allow. */
const MAX_PART = 100;

/**
 * A checkpoint or metric name as part of a file name: runs of anything but letters, digits, `_`, `.` and `-` become
 * one `-`, and leading dots and dashes go (no hidden file, no `..`, no option-like name). Never empty.
 */
export function fileNamePart(name: string): string {
  const part = name
    .replace(UNSAFE, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_PART)
    .replace(/[.-]+$/, '');
  return part || 'unnamed';
}

/**
 * What a heatmap picture is coloured by, for its file name: the metric's id (`alpha`, `snr_legacy` for the legacy
 * Spectrum score) or, coloured by selection, `top25pct` (`selection` when each panel has its own percent).
 */
export function shownFilePart(view: Pick<ViewState, 'mode' | 'metric' | 'variant'>, percent: number | null): string {
  const legacy = view.variant === 'legacy' ? '_legacy' : '';
  if (view.mode === 'selection') return `${percent === null ? 'selection' : `top${percent}pct`}${legacy}`;
  return `${view.metric}${view.metric === 'snr' ? legacy : ''}`;
}
