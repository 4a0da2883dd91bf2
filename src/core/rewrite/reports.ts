import type { ExtractReport } from './extract-lora.ts';
import type { RewindReport } from './rewind.ts';
import type { TruncateReport } from './truncate.ts';

/** What a rewrite reports, by kind: written beside its output as `<kind>-report.json` and `.md`, by the CLI and the page. */
export type RewriteReport =
  { kind: 'extract-lora'; report: ExtractReport } | { kind: 'rewind'; report: RewindReport } | { kind: 'truncate'; report: TruncateReport };

/** The report's two files: the JSON first, then the Markdown a person reads. */
export function rewriteReportFiles(r: RewriteReport): { name: string; text: string }[] {
  const markdown =
    r.kind === 'extract-lora' ? extractMarkdown(r.report) : r.kind === 'rewind' ? rewindMarkdown(r.report) : truncateMarkdown(r.report);
  return [
    { name: `${r.kind}-report.json`, text: `${JSON.stringify(r.report, null, 2)}\n` },
    { name: `${r.kind}-report.md`, text: markdown },
  ];
}

function markdownTable(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (x: string | number) => String(x).replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
    '\n',
  );
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

function rewindMarkdown(r: RewindReport): string {
  const share = r.heads.reduce((s, h) => s + (h.share ?? 0), 0);
  return [
    `# ${r.finetuned} with heads put back to ${r.base}`,
    '',
    `${r.heads.length} heads rewound (${(share * 100).toFixed(1)} % of the heads' ‖ΔW‖²), ${r.matrices.length} whole matrices.`,
    '',
    markdownTable(
      ['tensor', 'head', '‖ΔW‖² share %'],
      r.heads.map((h) => [h.tensor, h.head, ((h.share ?? 0) * 100).toFixed(2)]),
    ),
    ...(r.matrices.length > 0 ? ['', 'Whole matrices:', '', ...r.matrices.map((m) => `- ${m}`)] : []),
    '',
  ].join('\n');
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
