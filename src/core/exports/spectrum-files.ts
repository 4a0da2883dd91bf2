import { dataRecord } from '../data-record.ts';
import { errorRecord, type ErrorRecord } from '../errors.ts';
import { compareModelOrder, compareSpectrumTypes, spectrumType } from '../naming/spectrum-type.ts';
import { selectTopPercent, type ScoredModule, type TypeSelection } from '../selection/select.ts';
import { pyJsonDump, type PyJson } from './python-json.ts';
import { oneLineText, yamlScalar } from './yaml-scalar.ts';

/** Spectrum's slug: the model name with every "/" and "_" replaced by "-". */
export function spectrumSlug(modelName: string): string {
  return modelName.replace(/[/_]/g, '-');
}

export const spectrumJsonFileName = (model: string) => `snr_results_${spectrumSlug(model)}.json`;
export const spectrumSortedJsonFileName = (model: string) => `snr_results_${spectrumSlug(model)}_sorted.json`;
export const spectrumYamlFileName = (model: string, percent: number) =>
  `snr_results_${spectrumSlug(model)}_unfrozenparameters_${percent}percent.yaml`;

/**
 * The entries of Spectrum's JSON in its order: types sorted (grouped by first dotted part), and for
 * each type the modules whose name contains the type string, in model order. A module matched by two
 * types keeps its first position and takes the last label, as Spectrum's dict does. Values are rounded
 * to float32, the precision Spectrum computes and stores.
 */
export function spectrumEntries(modules: readonly { name: string; value: number }[]): ScoredModule[] {
  const types = [...new Set(modules.map((m) => spectrumType(m.name)))].sort(compareSpectrumTypes);
  const ordered = [...modules].sort((a, b) => compareModelOrder(a.name, b.name));
  const dict = new Map<string, ScoredModule>();
  for (const type of types) {
    for (const m of ordered) {
      if (m.name.includes(type)) dict.set(m.name, { name: m.name, type, value: Math.fround(m.value) });
    }
  }
  return [...dict.values()];
}

/** snr_results_<slug>.json: {"<module>": {"snr": v, "type": "<type>"}, …} as json.dump(indent=4) writes it. */
export function writeSpectrumJson(entries: readonly ScoredModule[]): string {
  const obj = dataRecord<PyJson>();
  for (const e of entries) obj[e.name] = { snr: e.value, type: e.type };
  return pyJsonDump(obj);
}

/** snr_results_<slug>_sorted.json: {"<type>": {"<module>": v, …}, …}, each type sorted descending. */
export function writeSpectrumSortedJson(entries: readonly ScoredModule[]): string {
  const obj = dataRecord<PyJson>();
  for (const t of selectTopPercent(entries, 100)) {
    const inner = dataRecord<PyJson>();
    for (const m of t.selected) inner[m.name] = m.value;
    obj[t.type] = inner;
  }
  return pyJsonDump(obj);
}

/**
 * axolotl reads each unfrozen_parameters entry as a regular expression, matched from the start of a
 * parameter's name, after escaping only `.`: an entry holding any other regular-expression syntax
 * (`model.layers.0.x|.*`) would unfreeze parameters it does not name. Real names never hold it.
 */
const AXOLOTL_REGEX_SYNTAX = /[|*+?()[\]{}^$\\]/;

/** Whether axolotl reads `name`, as an unfrozen_parameters entry, as that name alone. */
export function axolotlReadsLiterally(name: string): boolean {
  return !AXOLOTL_REGEX_SYNTAX.test(name);
}

/**
 * The unfrozen-parameters YAML that axolotl reads, byte for byte as spectrum.py writes it for every
 * real name. A name YAML could read as something else (a line break, `: `, ` #`, an indicator, `true`)
 * is double-quoted, and a comment never carries a line break (yaml-scalar.ts). A name axolotl would
 * read as a pattern is left out (spectrumYamlRefusals lists them).
 */
export function writeSpectrumYaml(selection: readonly TypeSelection[]): string {
  const lines = ['unfrozen_parameters:', '- ^lm_head.weight$', '- ^model.embed_tokens.weight$'];
  for (const t of selection) {
    lines.push(`# ${oneLineText(t.type)} layers`);
    for (const m of t.selected) if (axolotlReadsLiterally(m.name)) lines.push(`- ${yamlScalar(m.name)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The selected names that writeSpectrumYaml leaves out of `file`, as errors naming each one. */
export function spectrumYamlRefusals(selection: readonly TypeSelection[], file: string): ErrorRecord[] {
  return selection.flatMap((t) =>
    t.selected
      .filter((m) => !axolotlReadsLiterally(m.name))
      .map((m) => {
        const syntax = [...new Set(m.name.match(new RegExp(AXOLOTL_REGEX_SYNTAX, 'g')))].map((c) => `"${c}"`).join(', ');
        const why = `left out: axolotl reads each entry as a regular expression, and ${syntax} in this name would unfreeze parameters it does not name`;
        return errorRecord('TENSOR_ENTRY_INVALID', file, m.name, why);
      }),
  );
}

/** JSON with Python's non-standard literals: Infinity, -Infinity and NaN outside strings become numbers. */
export function parsePythonJson(text: string): unknown {
  const marks: number[] = [];
  // Strings are matched first and kept whole, so a literal inside a name is left alone.
  const json = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (tok) => {
    if (tok[0] === '"') return tok;
    marks.push(tok === 'NaN' ? NaN : tok === 'Infinity' ? Infinity : -Infinity);
    return `{"__pyfloat__":${marks.length - 1}}`;
  });
  return JSON.parse(json, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && '__pyfloat__' in v) return marks[(v as { __pyfloat__: number }).__pyfloat__];
    return v;
  });
}

/**
 * Spectrum's result JSON in either layout, raw ({"<module>": {"snr", "type"}}) or sorted
 * ({"<type>": {"<module>": v}}), as entries in file order.
 */
export function parseSpectrumJson(text: string, file = 'spectrum JSON'): ScoredModule[] {
  const data = parsePythonJson(text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${file}: not a JSON object`);
  const entries: ScoredModule[] = [];
  for (const [key, val] of Object.entries(data as Record<string, unknown>)) {
    if (typeof val !== 'object' || val === null) throw new Error(`${file}: entry "${key}" is not an object`);
    const v = val as Record<string, unknown>;
    if (typeof v.snr === 'number' && typeof v.type === 'string') {
      entries.push({ name: key, type: v.type, value: v.snr });
    } else {
      for (const [module, value] of Object.entries(v)) {
        if (typeof value !== 'number') throw new Error(`${file}: "${key}" → "${module}" is not a number`);
        entries.push({ name: module, type: key, value });
      }
    }
  }
  return entries;
}
