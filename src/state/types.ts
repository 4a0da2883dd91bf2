import type { ErrorRecord } from '../core/errors.ts';
import type { ExpertView } from './moe-lora-view.ts';
import type { SpectrumVariant } from '../core/metrics/spectrum.ts';
import type { ScanProgress } from '../core/scan/progress.ts';
import type { EngineKind, MatrixRecord } from '../core/scan/record.ts';
import type { ScanResult } from '../core/scan/result.ts';
import type { TimelineMetric, TimelineTransform } from '../core/timeline/model.ts';
import type { HistoryPoint } from '../core/timeline/trainer-state.ts';

export type ScanStatus = 'opening' | 'scanning' | 'done' | 'cancelled' | 'failed';

/** One checkpoint in the page: what its headers said, and what the scan has found so far. */
export interface CheckpointState {
  id: string;
  name: string;
  fingerprint: string | null;
  /** demo and user checkpoints are scanned; an import is Spectrum's result JSON (values, no weights) */
  origin: 'demo' | 'user' | 'import' | 'session';
  status: ScanStatus;
  /** the one-line reason when the checkpoint as a whole could not be opened */
  failure: string | null;
  progress: ScanProgress | null;
  /** records by name, in arrival order */
  records: Record<string, MatrixRecord>;
  errors: ErrorRecord[];
  skipped: ScanResult['skipped'];
  unmapped: string[];
  missing: ScanResult['missing'];
  totalJobs: number;
  engine: EngineKind;
  /** the records came from the IndexedDB cache (a file seen before) */
  fromCache: boolean;
}

export type HeatmapMode = 'selection' | 'metric';
export type HeatmapMetric =
  | 'snr'
  | 'signal_to_noise'
  | 'sigma_max'
  | 'frobenius'
  | 'alpha'
  | 'alpha_weighted'
  | 'stable_rank'
  | 'entropy'
  | 'num_spikes'
  | 'alpha_peak'
  | 'alpha_farms'
  | 'mp_rank';

export interface Cell {
  module: string;
  layer: number;
}

export type Page = 'checkpoint' | 'phases' | 'delta' | 'run';

export interface ViewState {
  page: Page;
  mode: HeatmapMode;
  metric: HeatmapMetric;
  percent: number;
  variant: SpectrumVariant;
  activeId: string | null;
  /** the cell whose detail is open */
  selected: Cell | null;
  /** keyboard focus in the grid */
  focused: Cell | null;
  /** MoE checkpoints: how expert cells aggregate, which layer is spread out (absent: the default) */
  experts?: ExpertView;
}

/** One step of the phase plan: a checkpoint, and the percent of layers it selects for the next phase. */
export interface PlanStep {
  checkpointId: string;
  percent: number;
  included: boolean;
}

export interface EngineState {
  kind: EngineKind;
  /** why the page uses the engine it uses, in one line */
  note: string;
  /** set when the GPU was lost mid-scan and the scan went on on the CPU: shown until dismissed */
  fallback: string | null;
  online: boolean;
}

/** What the ΔW heatmap colours by (delta.json's fields; head_max: the largest head's share). */
export type DeltaMetricId = 'relative_norm' | 'stable_rank' | 'truncatable_90' | 'truncatable_95' | 'truncatable_99' | 'head_max';

export type DeltaStatus = 'idle' | 'queued' | 'scanning' | 'done' | 'cancelled' | 'failed';

/** The ΔW page: the pair compared (ΔW = W_to − W_from), its scan, and how it is shown. */
export interface DeltaState {
  /** null: the default pair (the first two checkpoints with weights: the demo's base and phase 1) */
  fromId: string | null;
  toId: string | null;
  /** the pair the records are of (they stay while another pair is picked, until it is computed) */
  computed: { fromId: string; toId: string } | null;
  status: DeltaStatus;
  failure: string | null;
  progress: ScanProgress | null;
  records: Record<string, MatrixRecord>;
  errors: ErrorRecord[];
  skipped: ScanResult['skipped'];
  totalJobs: number;
  metric: DeltaMetricId;
  selected: Cell | null;
  focused: Cell | null;
}

/** One checkpoint of a training run on the Run page: where it stands in the run, and what its scan found (records only). */
export interface RunCheckpointState {
  /** the id its files are attached to the workers under */
  key: string;
  /** the checkpoint's folder or file inside the run (`timeline/checkpoint-500`), as the CLI names it */
  path: string;
  label: string;
  step: number | null;
  stepSource: 'trainer_state' | 'name' | null;
  fingerprint: string | null;
  status: ScanStatus;
  failure: string | null;
  progress: ScanProgress | null;
  records: Record<string, MatrixRecord>;
  errors: ErrorRecord[];
  totalJobs: number;
  fromCache: boolean;
  /** its trainer_state.json's log_history (empty without one) */
  history: HistoryPoint[];
}

/** How the Run page shows the run: the metric and transform of its heatmaps, the module of its profiles, the open matrix. */
export interface RunViewState {
  metric: TimelineMetric;
  transform: TimelineTransform;
  /** the module type whose depth profiles are drawn (null: the first) */
  profileModule: string | null;
  /** the matrix whose detail is open: a module type, a layer, a checkpoint (its index in the run) */
  selected: { module: string; layer: number; checkpoint: number } | null;
  focused: { module: string; layer: number; checkpoint: number } | null;
}

/** A training run opened on the Run page. */
export interface RunState {
  /** the run's folder name (the CLI's `run`) */
  name: string;
  origin: 'demo' | 'user';
  /** by step (a run folder, names with steps) or as the user ordered them */
  order: 'steps' | 'given';
  /** in training order */
  checkpoints: RunCheckpointState[];
  left: { path: string; reason: string }[];
  notes: string[];
  /** trainer_state.json files that could not be read */
  errors: ErrorRecord[];
  view: RunViewState;
}
