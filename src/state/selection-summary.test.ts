import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loraAdapter, moe, phi3, type FamilyFixture } from '../../test-fixtures/builders/families.ts';
import { scanFixture } from '../../test-fixtures/builders/scan-file.ts';
import { parseSpectrumJson } from '../core/exports/spectrum-files.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { aggregateExperts, type ExpertView } from './moe-lora-view.ts';
import { selectTopPercent, type ScoredModule, type TypeSelection } from '../core/selection/select.ts';
import {
  ALWAYS_UNFROZEN,
  alwaysUnfrozen,
  heatmapGrid,
  layerRanges,
  recordSelected,
  selectionSummary,
  spectrumSelection,
  selectionYaml,
  summaryLine,
  summaryText,
  yamlEntryLines,
  type TypeSummary,
} from './heatmap-data.ts';

const fixtures = join(import.meta.dirname, '../../test-fixtures/spectrum-results');
const STORM = 'snr_results_akjindal53244-Llama-3.1-Storm-8B';

/** Spectrum's own YAML file read line by line: its "# <type> layers" sections and the entries under each. */
function yamlSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const header = /^# (.*) layers$/.exec(line);
    if (header) sections.set(header[1], (current = []));
    else if (line.startsWith('- ') && current) current.push(line.slice(2));
  }
  return sections;
}

const lineOf = (summary: readonly TypeSummary[], type: string) => summaryLine(summary.find((t) => t.type === type)!);

const scored = (name: string, type: string, value: number): ScoredModule => ({ name, type, value });

describe('layerRanges', () => {
  it('writes runs of consecutive layers as ranges, in ascending order', () => {
    expect(layerRanges([38, 1, 36, 35, 11, 37, 15])).toBe('1, 11, 15, 35–38');
    expect(layerRanges([0, 1, 2, 4, 6, 7])).toBe('0–2, 4, 6–7');
    expect(layerRanges([47, 42, 43, 44, 45, 46, 1])).toBe('1, 42–47');
  });
  it('handles no layer, one layer and repeated layers', () => {
    expect(layerRanges([])).toBe('');
    expect(layerRanges([5])).toBe('5');
    expect(layerRanges([3, 3, 4])).toBe('3–4');
    expect(layerRanges([10, 2])).toBe('2, 10');
  });
});

describe('the entries Spectrum’s YAML always lists', () => {
  it('are lm_head and embed_tokens, as spectrum.py writes its first lines', () => {
    expect(ALWAYS_UNFROZEN).toEqual(['^lm_head.weight$', '^model.embed_tokens.weight$']);
  });
  it('unfreeze lm_head and the embedding, and nothing else', () => {
    expect(alwaysUnfrozen('lm_head')).toBe(true);
    expect(alwaysUnfrozen('model.embed_tokens')).toBe(true);
    expect(alwaysUnfrozen('model.norm')).toBe(false);
    expect(alwaysUnfrozen('model.layers.0.mlp.down_proj')).toBe(false);
    expect(alwaysUnfrozen('lm_headx')).toBe(false);
    expect(alwaysUnfrozen('transformer.lm_head')).toBe(false);
  });
  it('are the first entry lines of every YAML, and of Spectrum’s shipped file', () => {
    const shipped = readFileSync(join(fixtures, `${STORM}_unfrozenparameters_50percent.yaml`), 'utf8');
    expect(yamlEntryLines(shipped).slice(0, 2)).toEqual(['^lm_head.weight$', '^model.embed_tokens.weight$']);
  });
});

describe('selectionSummary', () => {
  // a hand-made selection: three types, as selectTopPercent hands them over (selected highest value first)
  const down = [0, 1, 2, 3, 4, 5].map((l) => scored(`model.layers.${l}.mlp.down_proj`, 'mlp.down_proj', l));
  const selection: TypeSelection[] = [
    { type: 'lm_head', members: [scored('lm_head', 'lm_head', 0.5)], selected: [] },
    { type: 'mlp.down_proj', members: down, selected: [down[5], down[1], down[4], down[0]] },
    { type: 'model.norm', members: [scored('model.norm', 'model.norm', 1)], selected: [scored('model.norm', 'model.norm', 1)] },
  ];

  it('keeps the YAML’s sections and entries, and sorts each section’s layers', () => {
    const summary = selectionSummary(selection);
    expect(summary.map((t) => t.type)).toEqual(['lm_head', 'mlp.down_proj', 'model.norm']);
    expect(summary[1].entries).toEqual([
      'model.layers.5.mlp.down_proj',
      'model.layers.1.mlp.down_proj',
      'model.layers.4.mlp.down_proj',
      'model.layers.0.mlp.down_proj',
    ]);
    expect(summary[1].layers).toEqual([0, 1, 4, 5]);
    expect(summary.map(summaryLine)).toEqual([
      "lm_head: none (0 of 1) · always unfrozen by the YAML's first lines",
      'mlp.down_proj: 0–1, 4–5 (4 of 6)',
      'model.norm: selected (1 of 1)',
    ]);
    expect(summary.map((t) => t.always)).toEqual([true, false, false]);
  });

  it('lists, per type, exactly the entries of the YAML written from the same selection', () => {
    const yaml = selectionYaml('m', 25, selection);
    expect(yaml.name).toBe('snr_results_m_unfrozenparameters_25percent.yaml');
    const sections = yamlSections(yaml.text);
    for (const t of selectionSummary(selection)) expect(t.entries).toEqual(sections.get(t.type));
  });

  it('as plain text: the file, the fixed entries, one line per type', () => {
    expect(summaryText('f.yaml', selectionSummary(selection))).toBe(
      [
        'f.yaml',
        'always unfrozen: ^lm_head.weight$, ^model.embed_tokens.weight$',
        "lm_head: none (0 of 1) · always unfrozen by the YAML's first lines",
        'mlp.down_proj: 0–1, 4–5 (4 of 6)',
        'model.norm: selected (1 of 1)',
        '',
      ].join('\n'),
    );
  });

  it('agrees with the YAML Spectrum shipped for Llama-3.1-Storm-8B at 50 %', () => {
    const entries = parseSpectrumJson(readFileSync(join(fixtures, `${STORM}.json`), 'utf8'));
    const shipped = readFileSync(join(fixtures, `${STORM}_unfrozenparameters_50percent.yaml`), 'utf8');
    const summary = selectionSummary(selectTopPercent(entries, 50));
    const sections = yamlSections(shipped);
    expect(summary.map((t) => t.type)).toEqual([...sections.keys()]);
    for (const t of summary) expect(t.entries).toEqual(sections.get(t.type));
    // read off the shipped file by hand
    const line = (type: string) => lineOf(summary, type);
    expect(line('mlp.down_proj')).toBe('mlp.down_proj: 0–6, 17, 19–23, 29–31 (16 of 32)');
    expect(line('self_attn.k_proj')).toBe('self_attn.k_proj: 11, 14, 17–29, 31 (16 of 32)');
    expect(line('input_layernorm')).toBe('input_layernorm: 0–15 (16 of 32)');
    expect(line('lm_head')).toBe("lm_head: none (0 of 1) · always unfrozen by the YAML's first lines");
    expect(line('model.embed_tokens')).toBe("model.embed_tokens: none (0 of 1) · always unfrozen by the YAML's first lines");
    expect(line('model.norm')).toBe('model.norm: none (0 of 1)');
  });

  it('at 100 % selects every module of every type', () => {
    const entries = parseSpectrumJson(readFileSync(join(fixtures, `${STORM}.json`), 'utf8'));
    const summary = selectionSummary(selectTopPercent(entries, 100));
    expect(summary.reduce((n, t) => n + t.entries.length, 0)).toBe(entries.length);
    expect(lineOf(summary, 'mlp.down_proj')).toBe('mlp.down_proj: 0–31 (32 of 32)');
    expect(lineOf(summary, 'lm_head')).toBe("lm_head: selected (1 of 1) · always unfrozen by the YAML's first lines");
  });
});

const scanned = (f: FamilyFixture) => scanFixture(f.files);

describe('recordSelected: what the heatmap shows, against the YAML', () => {
  it('a split of a fused tensor (Phi-3 qkv_proj, gate_up_proj) is unfrozen exactly when the YAML lists the fused module', async () => {
    const records = await scanned(phi3({ layers: 4 }));
    const all = Object.values(records);
    for (const percent of [25, 50, 100]) {
      const selection = spectrumSelection(all, percent, 'current');
      const listed = new Set(yamlEntryLines(selectionYaml('phi3', percent, selection).text));
      const selected = new Set(selection.flatMap((t) => t.selected.map((m) => m.name)));
      const views = all.filter((r) => r.spectrumModule === null);
      expect(views.map((r) => r.name)).toContain('model.layers.0.self_attn.qkv_proj.q');
      for (const r of views) {
        // the view's name is its fused module's, plus .q/.k/.v or .gate/.up
        const fused = r.name.replace(/\.(q|k|v|gate|up)$/, '');
        expect(recordSelected(r, selected, records), `${r.name} at ${percent}%`).toBe(listed.has(fused));
      }
      if (percent === 100) for (const r of all) expect(recordSelected(r, selected, records), r.name).toBe(true);
    }
  });

  it('a mean over experts is unfrozen when the YAML lists every expert of its cell; at 100 % every cell is', async () => {
    const records = await scanned(moe('qwen-moe', { layers: 2, experts: 4 }));
    const all = Object.values(records);
    const snr = (r: MatrixRecord) => r.spectrum?.snr ?? null;
    for (const aggregate of ['mean', 'max', 'one'] as const) {
      const view: ExpertView = { aggregate, expert: 1, expandLayer: null };
      const cells = [...heatmapGrid(aggregateExperts(all, view, snr)).cells.values()];
      expect(cells.some((r) => r.spectrumModule === null)).toBe(aggregate === 'mean');
      const at100 = spectrumSelection(all, 100, 'current');
      const selected100 = new Set(at100.flatMap((t) => t.selected.map((m) => m.name)));
      for (const r of cells) expect(recordSelected(r, selected100, records), `${aggregate}: ${r.name}`).toBe(true);
    }
    // a hand-made selection: every expert of layer 0, experts 0–2 of layer 1 (expert 3 left out)
    const selected = new Set(all.filter((r) => r.expert !== undefined && (r.layer === 0 || r.expert < 3)).map((r) => r.spectrumModule!));
    expect(selected.size).toBe(3 * 4 + 3 * 3);
    const means = [...heatmapGrid(aggregateExperts(all, { aggregate: 'mean', expert: 0, expandLayer: null }, snr)).cells.values()].filter(
      (r) => r.spectrumModule === null,
    );
    const got = means.map((r) => `${r.module}@${r.layer}: ${recordSelected(r, selected, records)}`).sort();
    expect(got).toEqual([
      'mlp.experts.down_proj@0: true',
      'mlp.experts.down_proj@1: false',
      'mlp.experts.gate_proj@0: true',
      'mlp.experts.gate_proj@1: false',
      'mlp.experts.up_proj@0: true',
      'mlp.experts.up_proj@1: false',
    ]);
  });

  it('a LoRA ΔW is never in the YAML, whatever the percent', async () => {
    const records = await scanned(
      loraAdapter([
        { module: 'model.layers.0.self_attn.q_proj', out: 16, in: 16 },
        { module: 'model.layers.1.mlp.down_proj', out: 16, in: 32 },
      ]),
    );
    const deltas = Object.values(records).filter((r) => r.lora);
    expect(deltas.length).toBeGreaterThan(0);
    const selected = new Set(spectrumSelection(Object.values(records), 100, 'current').flatMap((t) => t.selected.map((m) => m.name)));
    for (const r of deltas) expect(recordSelected(r, selected, records), r.name).toBe(false);
  });
});
