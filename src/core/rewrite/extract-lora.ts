import { throwIfAborted } from '../errors.ts';
import { NOTE_KEY, writeSmallFile, type WrittenFile } from './checkpoint-writer.ts';
import { keptEnergy, readDelta, targetText, transpose, tripletsFor, type RankTarget, type TopTriplets } from './low-rank-fn.ts';
import type { CheckpointPair, PairedMatrix } from './pair.ts';
import { writeSafetensors } from './safetensors-writer.ts';
import { textBytes, type OutputFolder } from './sink.ts';

/** One adapted module of an extracted LoRA. */
export interface LoraModuleReport {
  /** the module path, `model.layers.0.self_attn.q_proj` (its weight is `<module>.weight`) */
  module: string;
  layer: number | null;
  kind: 'linear' | 'conv1d' | 'embedding';
  /** ΔW as PEFT multiplies it: out × in (B is out × rank, A is rank × in) */
  shape: [number, number];
  rank: number;
  /** Σ_{i≤rank} σ_i² / ‖ΔW‖_F² */
  kept_energy: number;
  /** ‖ΔW − scale·B·A‖_F / ‖ΔW‖_F, measured with the f32 values written (not derived from σ) */
  relative_error: number;
  frobenius: number;
  sigma_max: number;
}

export interface ExtractReport {
  kind: 'extract-lora';
  base: string;
  finetuned: string;
  target: string;
  r: number;
  lora_alpha: number;
  modules: LoraModuleReport[];
  /** weights that the fine-tune left exactly as they were: no adapter module */
  unchanged: string[];
  /** 1-D weights (norms): a LoRA adapts matrices only */
  not_adapted: string[];
  files: WrittenFile[];
}

export interface ExtractOptions {
  target: RankTarget;
  signal?: AbortSignal;
  onModule?: (m: LoraModuleReport, done: number, total: number) => void;
}

/** The adapter's module path of a weight: PEFT keeps the base model's names under `base_model.model.`. */
function modulePath(m: PairedMatrix): string {
  return m.name.replace(/\.weight$/, '');
}

/**
 * Extract a LoRA adapter from ΔW = FT − BASE: per changed matrix, its top singular triplets (a rank or
 * an energy share), B = U·diag(√σ) (out × r) and A = diag(√σ)·Vᵀ (r × in), written as a PEFT adapter
 * folder (adapter_model.safetensors in f32, adapter_config.json). lora_alpha is set equal to each
 * module's rank (r and lora_alpha; rank_pattern and alpha_pattern where a module's rank differs), so
 * PEFT's scale alpha/r is 1 and the merged update is B·A itself. GPT-2's Conv1D weights (stored in × out)
 * and embeddings are adapted as PEFT does: B·A is the transpose of the stored ΔW (fan_in_fan_out for
 * Conv1D; lora_embedding_A/B for embeddings).
 *
 * The adapter is made in memory (its size, not the model's: r·(in + out) f32 per module) and written
 * once every module's rank is known; each ΔW is held alone, in float64, while its module is made.
 */
export async function extractLora(
  pair: CheckpointPair,
  lowRank: TopTriplets,
  out: OutputFolder,
  opts: ExtractOptions,
): Promise<ExtractReport> {
  const modules: LoraModuleReport[] = [];
  const tensors: { name: string; shape: number[]; bytes: Uint8Array }[] = [];
  const unchanged: string[] = [];
  const notAdapted: string[] = [];
  const matrices = pair.matrices.filter((m) => {
    if (m.vector) notAdapted.push(m.name);
    return !m.vector;
  });
  for (const m of matrices) {
    throwIfAborted(opts.signal);
    const { delta, energy } = await readDelta(pair, m, opts.signal);
    if (energy === 0) {
      unchanged.push(m.name);
      continue;
    }
    const kind: LoraModuleReport['kind'] = m.embedding ? 'embedding' : m.transposed ? 'conv1d' : 'linear';
    // PEFT's B·A is out × in: the stored matrix for a Linear, its transpose for Conv1D and embeddings
    const flip = kind !== 'linear';
    const [rows, cols] = flip ? [m.cols, m.rows] : [m.rows, m.cols];
    const target = flip ? transpose(delta, m.rows, m.cols) : delta;
    const t = await tripletsFor(lowRank, target, rows, cols, opts.target, m, opts.signal);
    const r = t.rank;
    const b = new Float32Array(rows * r);
    const a = new Float32Array(r * cols);
    for (let k = 0; k < r; k++) {
      const s = Math.sqrt(t.sigma[k]);
      for (let i = 0; i < rows; i++) b[i * r + k] = t.u[i * r + k] * s;
      for (let j = 0; j < cols; j++) a[k * cols + j] = t.v[j * r + k] * s;
    }
    const path = `base_model.model.${modulePath(m)}`;
    const [nameA, nameB] =
      kind === 'embedding' ? [`${path}.lora_embedding_A`, `${path}.lora_embedding_B`] : [`${path}.lora_A.weight`, `${path}.lora_B.weight`];
    tensors.push({ name: nameA, shape: [r, cols], bytes: new Uint8Array(a.buffer) });
    tensors.push({ name: nameB, shape: [rows, r], bytes: new Uint8Array(b.buffer) });
    const report: LoraModuleReport = {
      module: modulePath(m),
      layer: m.layer,
      kind,
      shape: [rows, cols],
      rank: r,
      kept_energy: keptEnergy(t, energy),
      relative_error: Math.sqrt(residualEnergy(target, rows, cols, b, a, r) / energy),
      frobenius: Math.sqrt(energy),
      sigma_max: t.sigma[0] ?? 0,
    };
    modules.push(report);
    opts.onModule?.(report, modules.length, matrices.length);
  }
  const { r, alpha, rankPattern } = loraRanks(modules);
  const note = `extract-lora: ΔW = ${pair.ft.name} − ${pair.base.name}, ${targetText(opts.target)} per module, lora_alpha = rank (scale 1)`;
  const sink = await out.create('adapter_model.safetensors');
  const bytes = await writeSafetensors(
    sink,
    'adapter_model.safetensors',
    { format: 'pt', [NOTE_KEY]: note },
    tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, byteLength: t.bytes.byteLength, write: (emit) => emit(t.bytes) })),
  );
  const config = adapterConfig(pair, modules, r, alpha, rankPattern);
  const files = [{ name: 'adapter_model.safetensors', bytes }, await writeSmallFile(out, 'adapter_config.json', textBytes(config))];
  return {
    kind: 'extract-lora',
    base: pair.base.name,
    finetuned: pair.ft.name,
    target: targetText(opts.target),
    r,
    lora_alpha: alpha,
    modules,
    unchanged,
    not_adapted: notAdapted,
    files,
  };
}

/** ‖M − B·A‖_F², row by row in float64 with the f32 factors as written. */
function residualEnergy(m: Float64Array, rows: number, cols: number, b: Float32Array, a: Float32Array, r: number): number {
  let sum = 0;
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const bik = b[i * r + k];
      if (bik === 0) continue;
      const off = k * cols;
      for (let j = 0; j < cols; j++) row[j] += bik * a[off + j];
    }
    const off = i * cols;
    for (let j = 0; j < cols; j++) {
      const d = m[off + j] - row[j];
      sum += d * d;
    }
  }
  return sum;
}

/** r: the rank most modules have (the larger on a tie); the others go into rank_pattern, with alpha = rank throughout. */
function loraRanks(modules: LoraModuleReport[]): { r: number; alpha: number; rankPattern: Record<string, number> } {
  const counts = new Map<number, number>();
  for (const m of modules) counts.set(m.rank, (counts.get(m.rank) ?? 0) + 1);
  let r = 0;
  for (const [rank, n] of counts) if (n > (counts.get(r) ?? 0) || (n === counts.get(r) && rank > r)) r = rank;
  const rankPattern: Record<string, number> = {};
  for (const m of modules) if (m.rank !== r) rankPattern[m.module] = m.rank;
  return { r, alpha: r, rankPattern };
}

/**
 * adapter_config.json as PEFT writes it (keys sorted, two-space indent). target_modules are the modules'
 * last names (`q_proj`) when every weight of those names was adapted, else the full module paths, so
 * that PEFT wraps exactly the modules the adapter holds.
 */
function adapterConfig(
  pair: CheckpointPair,
  modules: LoraModuleReport[],
  r: number,
  alpha: number,
  rankPattern: Record<string, number>,
): string {
  const leaf = (p: string) => p.split('.').pop()!;
  const adapted = new Set(modules.map((m) => m.module));
  // every matrix of the checkpoint, not only those --only chose: a last name covers them all in PEFT
  const all2d = pair.ft.tensors
    .filter((t) => t.shape.length === 2 && t.name.endsWith('.weight'))
    .map((t) => t.name.replace(/\.weight$/, ''));
  const leaves = [...new Set(modules.map((m) => leaf(m.module)))].sort();
  const byLeaf = leaves.every((l) => all2d.filter((p) => leaf(p) === l).every((p) => adapted.has(p)));
  const nameOrPath = pair.base.config?._name_or_path;
  const config: Record<string, unknown> = {
    alpha_pattern: { ...rankPattern },
    auto_mapping: null,
    base_model_name_or_path: typeof nameOrPath === 'string' && nameOrPath !== '' ? nameOrPath : pair.base.name,
    bias: 'none',
    fan_in_fan_out: modules.some((m) => m.kind === 'conv1d'),
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: 0.0,
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: byLeaf ? leaves : [...adapted].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
