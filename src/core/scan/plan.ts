import type { CheckpointInfo } from '../formats/checkpoint.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { compareModules } from '../naming/naming-rules.ts';
import { matchName, tensorRole } from '../naming/map-tensor.ts';
import { spectrumModuleName } from '../naming/spectrum-type.ts';
import { bytesRead, read, type MatrixExpr } from './matrix-expr.ts';
import { findLoraPairs, loraDelta } from './plan-lora.ts';
import { expertSlices, viewJobs, type MatrixView, type ViewJobs } from './plan-views.ts';

/** Which matrix it is and where its cell is: what a job and its record share. */
export interface MatrixPlace {
  /** the record's name: the tensor name in the file (or a derived name, with `source`) */
  name: string;
  layer: number | null;
  /** heatmap row */
  module: string;
  expert?: number;
  /** Spectrum's module name and type (exports use these); null: a view Spectrum's exports leave out */
  spectrumModule: string | null;
  spectrumType: string | null;
  /** 1-D weights: Spectrum's score only */
  vector: boolean;
  /** naming family that knew the name; null = analysed under Spectrum's generic type */
  family: string | null;
  /** the matrix as analysed (a vector is 1 × d) */
  rows: number;
  cols: number;
}

/** One matrix to analyse: where its bytes are and where its cell is. */
export interface MatrixJob extends MatrixPlace {
  /** the tensor it is read from; for a derived matrix, the one that names its file and dtype */
  tensor: TensorInfo;
  /** how to build the matrix when it is not `tensor` as stored (matrix-expr.ts) */
  derive?: MatrixExpr;
  /** the tensors a derived matrix came from */
  source?: string[];
  /** LoRA ΔW: its rank bound and the scale alpha/r it was multiplied by */
  lora?: { rank: number; scale: number };
  /** also FARMS' windows (alpha_farms; core/metrics/farms.ts withFarms): off unless asked, it costs ~9× on small matrices */
  farms?: boolean;
}

/** A record that is another record under a second name (tied embeddings: lm_head = embed_tokens). */
export interface AliasJob {
  name: string;
  of: string;
  module: string;
  spectrumModule: string;
  spectrumType: string;
}

export interface ScanPlan {
  jobs: MatrixJob[];
  aliases: AliasJob[];
  skipped: { name: string; reason: string }[];
  /** tensors that no family rule knows (still analysed under Spectrum's generic type) */
  unmapped: string[];
  /** bytes that the jobs read */
  totalBytes: number;
}

export interface PlanOptions {
  /** analyse only tensors whose name matches */
  only?: RegExp;
  /**
   * How a derivation names a file for the analyser that reads it: a path (CLI), `${id}/${file}` (page).
   * Plain jobs are read through the `ref` their caller passes, as before.
   */
  refOf?: (file: string) => string;
}

/** Bytes one job reads. */
export function jobBytes(job: MatrixJob): number {
  return job.derive ? bytesRead(job.derive) : job.tensor.byteLength;
}

export function planScan(ckpt: CheckpointInfo, opts: PlanOptions = {}): ScanPlan {
  const refOf = opts.refOf ?? ((file: string) => file);
  const lora = findLoraPairs(ckpt.tensors, ckpt.adapterConfig);
  const present = new Set(ckpt.tensors.map((t) => t.name));
  const mergeInto = new Map(lora.pairs.map((p) => [p.baseName, p]));
  const jobs: MatrixJob[] = [];
  const skipped: ScanPlan['skipped'] = [...lora.skipped];
  const unmapped: string[] = [];
  const add = (r: ViewJobs) => {
    jobs.push(...r.jobs);
    skipped.push(...r.skipped);
  };
  for (const t of ckpt.tensors) {
    if (lora.consumed.has(t.name)) continue;
    if (opts.only && !opts.only.test(t.name)) continue;
    const role = tensorRole(t);
    if (role.kind === 'skipped') {
      skipped.push({ name: t.name, reason: role.reason });
      continue;
    }
    if (role.family === null) unmapped.push(t.name);
    const stem = spectrumModuleName(t.name);
    if (role.kind === 'stacked') {
      const slices = expertSlices(t);
      if (slices.length === 0)
        skipped.push({ name: t.name, reason: `${t.shape.join(' × ')} experts do not divide its ${t.byteLength} bytes` });
      slices.forEach((slice, e) => {
        const module = role.match.module.replace('mlp.experts.', `mlp.experts.${e}.`);
        const match = { ...role.match, expert: e };
        add(
          viewJobs(
            {
              name: `${stem}.${e}`,
              stem: `${stem}.${e}`,
              tail: '',
              tensor: slice,
              family: role.family,
              match,
              vector: false,
              spectrumModule: `model.layers.${role.match.layer}.${module}`,
              source: [t.name],
            },
            ckpt.config,
          ),
        );
      });
      continue;
    }
    const vector = role.kind === 'vector';
    const stored = read(t, refOf(t.file));
    const view: MatrixView = {
      name: t.name,
      stem,
      tail: '',
      tensor: t,
      family: role.family,
      match: role.match,
      vector,
      spectrumModule: role.match.spectrumName ?? stem,
      canonical: role.match.layout?.transposed ? { op: 'transpose', of: stored } : stored,
    };
    const pair = vector ? undefined : mergeInto.get(t.name);
    if (pair) {
      // an adapter dropped with its base: the matrix is the merged W + ΔW, under the base's name
      view.full = { op: 'add', a: view.canonical!, b: loraDelta(pair, refOf) };
      view.canonical = view.full;
      view.source = [t.name, pair.a.name, pair.b.name];
    }
    add(viewJobs(view, ckpt.config));
  }
  for (const p of lora.pairs) {
    if (present.has(p.baseName)) continue; // merged above (or left out by `only`)
    const name = `${p.module}.lora_delta`;
    if (opts.only && !opts.only.test(name)) continue;
    const { family, match } = matchName(p.baseName);
    if (family === null) unmapped.push(name);
    const delta = loraDelta(p, refOf);
    add(
      viewJobs(
        {
          name,
          stem: p.module,
          tail: '.lora_delta',
          tensor: p.a,
          family,
          match,
          vector: false,
          spectrumModule: null,
          full: delta,
          canonical: delta,
          source: [p.a.name, p.b.name],
          lora: { rank: p.rank, scale: p.scale },
        },
        ckpt.config,
      ),
    );
  }
  jobs.sort(compareJobs);
  const adapterOnly = ckpt.adapterConfig !== null && lora.pairs.every((p) => !present.has(p.baseName));
  return {
    jobs,
    aliases: adapterOnly ? [] : tiedHead(ckpt, jobs, opts),
    skipped,
    unmapped,
    totalBytes: jobs.reduce((a, j) => a + jobBytes(j), 0),
  };
}

/** Layer order, block by block, as results appear in the heatmap; non-layer matrices last (jobs, or the records they made). */
export function compareJobs(
  a: Pick<MatrixPlace, 'name' | 'layer' | 'module' | 'expert'>,
  b: Pick<MatrixPlace, 'name' | 'layer' | 'module' | 'expert'>,
): number {
  const la = a.layer ?? Infinity;
  const lb = b.layer ?? Infinity;
  if (la !== lb) return la - lb;
  return compareModules(a.module, b.module) || (a.expert ?? 0) - (b.expert ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Tied embeddings: a causal LM without an lm_head tensor has an lm_head module that is the
 * embedding; Spectrum scores it as such (unless config.json says the two are not tied).
 */
function tiedHead(ckpt: CheckpointInfo, jobs: MatrixJob[], opts: PlanOptions): AliasJob[] {
  if (ckpt.config?.tie_word_embeddings === false) return [];
  // GPT-NeoX's embed_out and GGUF's output are heads by other names
  if (ckpt.tensors.some((t) => t.name === 'lm_head.weight' || matchName(t.name).match.module === 'lm_head')) return [];
  if (opts.only && !opts.only.test('lm_head.weight')) return [];
  const embed = jobs.find((j) => j.module === 'model.embed_tokens' && !j.vector);
  if (!embed) return [];
  return [{ name: 'lm_head.weight', of: embed.name, module: 'lm_head', spectrumModule: 'lm_head', spectrumType: 'lm_head' }];
}
