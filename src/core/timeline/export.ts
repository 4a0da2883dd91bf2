import type { ErrorRecord } from '../errors.ts';
import { csvText } from '../exports/csv.ts';
import { TOOL_VERSION } from '../exports/metrics-json.ts';
import { oneLineText } from '../exports/yaml-scalar.ts';
import type { SpectrumVariant } from '../metrics/spectrum.ts';
import type { ScanMode } from '../scan/record.ts';
import {
  compressionWave,
  depthDependence,
  depthProfile,
  depthValues,
  roleDependence,
  TIMELINE_METRICS,
  waveTravel,
  type Timeline,
  type TimelineMetric,
} from './model.ts';
import type { RunCheckpoint } from './run.ts';
import type { HistoryPoint } from './trainer-state.ts';

/** timeline.json, the long-format CSV and timeline.md (docs/formats.md): what the CLI writes and the page exports. */

export interface TimelineReport {
  /** the run's name (its folder) */
  run: string;
  timeline: Timeline;
  /** the run's checkpoints, in the timeline's order, with what their scans found */
  checkpoints: (Pick<RunCheckpoint, 'path' | 'stepSource'> & { errors: number })[];
  history: HistoryPoint[];
  variant: SpectrumVariant;
  mode: ScanMode;
  /** every checkpoint's errors (each names its file) */
  errors: ErrorRecord[];
  /** candidates left out of the run, and why */
  left: { path: string; reason: string }[];
  notes: string[];
}

/** The metrics whose depth profile and depth dependence the summaries give. */
const SUMMARY_METRICS: readonly TimelineMetric[] = ['stable_rank', 'alpha'];

/** The last checkpoint with records: the summaries' "last step". */
function lastScanned(t: Timeline): number {
  return t.checkpoints.findLastIndex((c) => c.scanned);
}

function summary(t: Timeline) {
  const last = lastScanned(t);
  return {
    last_checkpoint: last < 0 ? null : last,
    modules: t.modules.map((module) => ({
      module,
      depth_profile_last: Object.fromEntries(
        SUMMARY_METRICS.map((metric) => {
          const p = depthProfile(last < 0 ? [] : depthValues(t, module, metric, last));
          return [metric, { peak_layer: p.peakLayer, peak_value: p.peakValue, gradient: p.gradient, slope: p.slope, spearman: p.spearman }];
        }),
      ),
      depth_dependence: Object.fromEntries(
        SUMMARY_METRICS.map((metric) => {
          const d = depthDependence(t, module, metric);
          return [metric, { cv: d.map((x) => x.cv), spearman: d.map((x) => x.spearman) }];
        }),
      ),
      compression_wave: compressionWave(t, module),
    })),
    attention_roles: Object.fromEntries(
      SUMMARY_METRICS.map((metric) => [
        metric,
        roleDependence(t, metric).map((g) => ({ role: g.role, modules: g.modules, cv: g.cv, spearman: g.spearman })),
      ]),
    ),
  };
}

/** timeline.json: the checkpoints, every layer matrix's metrics per checkpoint, the training history, the summaries. */
export function timelineJson(r: TimelineReport): string {
  const t = r.timeline;
  return `${JSON.stringify(
    {
      tool: 'spectral-workbench',
      version: TOOL_VERSION,
      run: r.run,
      mode: r.mode,
      spectrum_variant: r.variant,
      metrics: TIMELINE_METRICS,
      checkpoints: t.checkpoints.map((c, i) => ({
        step: c.step,
        label: c.label,
        path: r.checkpoints[i].path,
        step_source: r.checkpoints[i].stepSource,
        scanned: c.scanned,
        errors: r.checkpoints[i].errors,
      })),
      matrices: t.matrices.map((m) => ({ name: m.name, layer: m.layer, module: m.module, ...m.values })),
      history: r.history,
      summary: summary(t),
      left_out: r.left,
      notes: r.notes,
      errors: r.errors,
    },
    null,
    2,
  )}\n`;
}

/** The long-format CSV: one row per checkpoint, matrix and metric (an empty value: not computed or not scanned). */
export function timelineCsv(t: Timeline): string {
  const lines = ['step,checkpoint,layer,module,metric,value'];
  t.checkpoints.forEach((c, i) => {
    if (!c.scanned) return;
    const head = `${c.step ?? ''},${csvText(c.label)}`;
    for (const m of t.matrices) {
      for (const k of TIMELINE_METRICS) {
        const v = m.values[k][i];
        lines.push(`${head},${m.layer},${csvText(m.module)},${k},${v === null ? '' : String(v)}`);
      }
    }
  });
  return `${lines.join('\n')}\n`;
}

/** Names from files in a Markdown line: on one line, and a `|` stays inside its table cell. */
const md = (text: string) => oneLineText(text).replace(/\|/g, '\\|');
const fixed = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const signWord = (g: -1 | 0 | 1) => (g > 0 ? 'rises with depth (+)' : g < 0 ? 'falls with depth (−)' : 'flat (0)');
const stepName = (t: Timeline, i: number) => {
  const c = t.checkpoints[i];
  return c.step === null ? md(c.label) : String(c.step);
};
const meanOf = (xs: readonly (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length;
};

/** timeline.md: per module type at the last step the depth gradient and peak layer, the wave's path, Q/K against V/O. */
export function timelineMarkdown(r: TimelineReport): string {
  const t = r.timeline;
  const last = lastScanned(t);
  const scanned = t.checkpoints.filter((c) => c.scanned).length;
  const out = [`# Timeline of ${md(r.run)}`, ''];
  const steps = t.checkpoints.map((_, i) => stepName(t, i));
  out.push(
    `${t.checkpoints.length} checkpoints (${steps.join(', ')})${scanned < t.checkpoints.length ? `, ${scanned} scanned` : ''}; ` +
      `${t.modules.length} module types over ${t.layers.length} layers.`,
  );
  const losses = r.history.filter((p) => p.loss !== undefined);
  if (losses.length > 0) {
    const a = losses[0];
    const b = losses[losses.length - 1];
    out.push(`Training loss ${a.loss} at step ${a.step} → ${b.loss} at step ${b.step} (${losses.length} logged).`);
  }
  for (const note of r.notes) out.push('', `Note: ${md(note)}`);
  for (const l of r.left) out.push('', `Left out: ${md(l.path)}: ${md(l.reason)}`);
  if (last < 0) return `${out.join('\n')}\n\nNo checkpoint was scanned.\n`;

  out.push('', `## Depth profile at the last step (${stepName(t, last)})`, '');
  out.push('Gradient: the sign of ρ, the Spearman correlation of the metric with depth; peak: the layer with the largest value.');
  out.push('', '| Module | Stable rank | ρ | Peak layer | Alpha | ρ | Peak layer |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const module of t.modules) {
    const sr = depthProfile(depthValues(t, module, 'stable_rank', last));
    const al = depthProfile(depthValues(t, module, 'alpha', last));
    out.push(
      `| ${md(module)} | ${signWord(sr.gradient)} | ${fixed(sr.spearman)} | ${sr.peakLayer ?? '–'} | ${signWord(al.gradient)} | ${fixed(al.spearman)} | ${al.peakLayer ?? '–'} |`,
    );
  }

  out.push('', '## Compression wave', '');
  out.push(
    'For each interval between checkpoints, the layer whose stable rank fell by the largest fraction of its value, and that fraction ' +
      '(– where no layer fell). Travel: Spearman correlation of the wave layer with the interval, over the intervals with a fall ' +
      '(positive: the wave moves from early to late layers).',
  );
  const intervals = t.checkpoints.slice(1).map((_, i) => `${stepName(t, i)}→${stepName(t, i + 1)}`);
  out.push('', `| Module | ${intervals.join(' | ')} | Travel |`, `| --- | ${intervals.map(() => '---').join(' | ')} | --- |`);
  for (const module of t.modules) {
    const wave = compressionWave(t, module);
    const cells = wave.map((w) => (w.layer === null ? '–' : `L${w.layer} (${(w.rate! * 100).toFixed(0)}%)`));
    const travel = waveTravel(wave);
    out.push(`| ${md(module)} | ${cells.join(' | ')} | ${fixed(travel.spearman)} over ${travel.intervals} |`);
  }

  for (const metric of SUMMARY_METRICS) {
    const groups = roleDependence(t, metric);
    if (groups.length === 0) continue;
    const label = metric === 'stable_rank' ? 'stable rank' : metric;
    out.push('', `## Q/K vs V/O: depth dependence of ${label}`, '');
    out.push(
      'CV: the spread across layers (population standard deviation / mean); ρ: Spearman correlation with depth; each the mean over the group’s module types.',
    );
    out.push('', `Groups: ${groups.map((g) => `${g.role === 'qk' ? 'Q/K' : 'V/O'} = ${g.modules.map(md).join(', ')}`).join('; ')}.`);
    const names = groups.map((g) => (g.role === 'qk' ? 'Q/K' : 'V/O'));
    out.push('', `| Step | ${names.map((n) => `${n} CV`).join(' | ')} | ${names.map((n) => `${n} ρ`).join(' | ')} |`);
    out.push(`| --- | ${names.map(() => '---').join(' | ')} | ${names.map(() => '---').join(' | ')} |`);
    t.checkpoints.forEach((c, i) => {
      if (!c.scanned) return;
      out.push(
        `| ${stepName(t, i)} | ${groups.map((g) => fixed(g.cv[i])).join(' | ')} | ${groups.map((g) => fixed(g.spearman[i])).join(' | ')} |`,
      );
    });
    out.push(
      `| mean | ${groups.map((g) => fixed(meanOf(g.cv))).join(' | ')} | ${groups.map((g) => fixed(meanOf(g.spearman))).join(' | ')} |`,
    );
  }
  if (r.errors.length > 0) out.push('', `${r.errors.length} errors (listed in timeline.json).`);
  return `${out.join('\n')}\n`;
}
