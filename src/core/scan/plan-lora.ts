import type { TensorInfo } from '../formats/tensor-info.ts';
import type { MatrixExpr } from './matrix-expr.ts';

/**
 * LoRA / PEFT adapters (docs/formats.md): `base_model.model.<module>.lora_A.weight` (r × in) and
 * `lora_B.weight` (out × r) give ΔW = (lora_alpha / r)·B·A, out × in whatever the base stores
 * (PEFT's fan_in_fan_out only transposes ΔW when it merges into a Conv1D). Embedding adapters store
 * `lora_embedding_A` (r × vocab) and `lora_embedding_B` (dim × r), and their ΔW is (B·A)ᵀ.
 */
export interface LoraPair {
  /** the adapter's module path, `base_model.model.model.layers.0.self_attn.q_proj` */
  module: string;
  /** the base model's tensor that ΔW updates: `model.layers.0.self_attn.q_proj.weight` */
  baseName: string;
  a: TensorInfo;
  b: TensorInfo;
  embedding: boolean;
  rank: number;
  scale: number;
}

export interface LoraScan {
  pairs: LoraPair[];
  /** tensor names the pairs consume (not analysed on their own) */
  consumed: Set<string>;
  skipped: { name: string; reason: string }[];
}

const LORA = /^(.*)\.lora_(embedding_)?(A|B)(?:\.[\w-]+)?(?:\.weight)?$/;
const MAGNITUDE = /\.lora_magnitude_vector(?:\.[\w-]+)?(?:\.weight)?$/;

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : null;
}

/** PEFT's rank_pattern / alpha_pattern keys match a module name by suffix, as a regular expression. */
function patternValue(patterns: unknown, module: string): number | null {
  if (typeof patterns !== 'object' || patterns === null) return null;
  for (const [key, value] of Object.entries(patterns as Record<string, unknown>)) {
    try {
      if (new RegExp(`(.*\\.)?(${key})$`).test(module) && num(value) !== null) return value as number;
    } catch {
      // a key that is not a valid pattern here is not one PEFT could have matched either
    }
  }
  return null;
}

export function findLoraPairs(tensors: readonly TensorInfo[], adapterConfig: Record<string, unknown> | null): LoraScan {
  const halves = new Map<string, { a?: TensorInfo; b?: TensorInfo; embedding: boolean }>();
  const consumed = new Set<string>();
  const skipped: LoraScan['skipped'] = [];
  for (const t of tensors) {
    if (MAGNITUDE.test(t.name)) {
      consumed.add(t.name);
      skipped.push({
        name: t.name,
        reason: 'DoRA magnitude vector: ΔW below is the low-rank direction (alpha/r)·B·A, without the magnitude rescaling',
      });
      continue;
    }
    const m = LORA.exec(t.name);
    if (!m) continue;
    consumed.add(t.name);
    const h = halves.get(m[1]) ?? { embedding: m[2] !== undefined };
    if (m[3] === 'A') h.a = t;
    else h.b = t;
    halves.set(m[1], h);
  }
  const pairs: LoraPair[] = [];
  for (const [module, h] of halves) {
    if (!h.a || !h.b) {
      skipped.push({ name: (h.a ?? h.b)!.name, reason: `LoRA ${h.a ? 'A' : 'B'} without its ${h.a ? 'B' : 'A'}: no ΔW` });
      continue;
    }
    const plain = module.replace(/^base_model\.model\./, '');
    const rank = h.a.shape[0];
    const r = patternValue(adapterConfig?.rank_pattern, plain) ?? num(adapterConfig?.r) ?? rank;
    const alpha = patternValue(adapterConfig?.alpha_pattern, plain) ?? num(adapterConfig?.lora_alpha) ?? r;
    const scale = adapterConfig?.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r;
    pairs.push({ module, baseName: `${plain}.weight`, a: h.a, b: h.b, embedding: h.embedding, rank, scale });
  }
  if (pairs.length > 0 && !adapterConfig) {
    skipped.push({
      name: 'adapter_config.json',
      reason:
        'absent: lora_alpha is unknown, so ΔW is taken as B·A (scale 1); σ and Spectrum’s value are off by alpha/r, scale-free metrics are not',
    });
  }
  return { pairs, consumed, skipped };
}

/** ΔW of a pair as out × in (the orientation of an nn.Linear weight). */
export function loraDelta(p: LoraPair, refOf: (file: string) => string): MatrixExpr {
  const product: MatrixExpr = {
    op: 'lowRank',
    scale: p.scale,
    b: { op: 'read', operand: { tensor: p.b, ref: refOf(p.b.file) } },
    a: { op: 'read', operand: { tensor: p.a, ref: refOf(p.a.file) } },
  };
  return p.embedding ? { op: 'transpose', of: product } : product;
}
