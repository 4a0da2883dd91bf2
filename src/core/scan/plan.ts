import type { CheckpointInfo } from '../formats/checkpoint.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { compareModules } from '../naming/families.ts';
import { tensorRole } from '../naming/map-tensor.ts';
import { spectrumModuleName, spectrumType } from '../naming/spectrum-type.ts';

/** One matrix to analyse: where its bytes are and where its cell is. */
export interface MatrixJob {
  /** the record's name: the tensor name in the file (or a derived name, with `source`) */
  name: string;
  tensor: TensorInfo;
  layer: number | null;
  /** heatmap row */
  module: string;
  expert?: number;
  /** Spectrum's module name and type (exports use these) */
  spectrumModule: string;
  spectrumType: string;
  /** 1-D weights: Spectrum's score only */
  vector: boolean;
  rows: number;
  cols: number;
  /** naming family that knew the name; null = analysed under Spectrum's generic type */
  family: string | null;
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
}

export function planScan(ckpt: CheckpointInfo, opts: PlanOptions = {}): ScanPlan {
  const jobs: MatrixJob[] = [];
  const skipped: ScanPlan['skipped'] = [];
  const unmapped: string[] = [];
  for (const t of ckpt.tensors) {
    if (opts.only && !opts.only.test(t.name)) continue;
    const role = tensorRole(t);
    if (role.kind === 'skipped') {
      skipped.push({ name: t.name, reason: role.reason });
      continue;
    }
    if (role.family === null) unmapped.push(t.name);
    const vector = role.kind === 'vector';
    const spectrumModule = spectrumModuleName(t.name);
    jobs.push({
      name: t.name,
      tensor: t,
      layer: role.match.layer,
      module: role.match.module,
      ...(role.match.expert !== undefined ? { expert: role.match.expert } : {}),
      spectrumModule,
      spectrumType: spectrumType(spectrumModule),
      vector,
      rows: vector ? 1 : t.shape[0],
      cols: vector ? t.shape[0] : t.shape[1],
      family: role.family,
    });
  }
  jobs.sort(compareJobs);
  return { jobs, aliases: tiedHead(ckpt, jobs, opts), skipped, unmapped, totalBytes: jobs.reduce((a, j) => a + j.tensor.byteLength, 0) };
}

/** Layer order, block by block, as results appear in the heatmap; non-layer matrices last. */
function compareJobs(a: MatrixJob, b: MatrixJob): number {
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
  if (ckpt.config?.tie_word_embeddings === false || ckpt.adapterConfig) return [];
  if (ckpt.tensors.some((t) => t.name === 'lm_head.weight')) return [];
  if (opts.only && !opts.only.test('lm_head.weight')) return [];
  const embed = jobs.find((j) => j.module === 'model.embed_tokens' && !j.vector);
  if (!embed) return [];
  return [{ name: 'lm_head.weight', of: embed.name, module: 'lm_head', spectrumModule: 'lm_head', spectrumType: 'lm_head' }];
}
