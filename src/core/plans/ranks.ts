// Data-free ranks per matrix for low-rank compression (LASER) or a LoRA: the MP rank and the ranks holding
// 90/95/99 % of Σσ². Definitions and the PEFT key rule: docs/plans.md.

import { ENERGY_LEVELS, type EnergyLevel } from '../metrics/weight-delta.ts';
import type { PlanMatrix } from './plan-matrix.ts';

/** Which rank a rank_pattern carries: the MP rank, or the rank holding that % of Σσ². */
export type RankSource = 'mp' | EnergyLevel;

export const RANK_SOURCES: readonly RankSource[] = ['mp', ...ENERGY_LEVELS];

export interface RankEntry {
  name: string;
  /** the module's name as PEFT matches it: the parameter name without `.weight` */
  module: string;
  layer: number | null;
  type: string;
  maxRank: number | null;
  mp: number | null;
  energy: Readonly<Record<EnergyLevel, number>> | null;
}

export interface RankPlan {
  entries: RankEntry[];
  notes: string[];
}

/** PEFT names a LoRA target by its module, the parameter's name without the trailing `.weight`. */
export function peftModuleName(parameterName: string): string {
  return parameterName.replace(/\.weight$/, '');
}

/** Embeddings and lm_head are not LoRA targets of a rank_pattern here (PEFT wraps them differently). */
const isEmbeddingOrHead = (m: PlanMatrix) => m.layer === null && (m.module === 'lm_head' || /embed/.test(m.module));

export function rankPlan(matrices: readonly PlanMatrix[]): RankPlan {
  const entries = matrices
    .filter((m) => !isEmbeddingOrHead(m))
    .map((m) => ({
      name: m.name,
      module: peftModuleName(m.name),
      layer: m.layer,
      type: m.spectrumType,
      maxRank: m.maxRank,
      mp: m.mpRank,
      energy: m.energyRank,
    }));
  const notes: string[] = [];
  if (entries.length > 0 && entries.every((e) => e.mp === null)) notes.push('no MP rank in the input (mp_rank)');
  if (entries.length > 0 && entries.every((e) => e.energy === null)) notes.push('no energy ranks: the input has no singular values');
  return { entries, notes };
}

export function rankOf(e: RankEntry, source: RankSource): number | null {
  return source === 'mp' ? e.mp : (e.energy?.[source] ?? null);
}
