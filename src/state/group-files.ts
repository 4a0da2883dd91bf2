import { stepOfName } from '../core/timeline/steps.ts';

/**
 * What a drop or a pick means: which files form one checkpoint. A folder is one checkpoint; an index
 * with its shards is one; several unrelated .safetensors files are one checkpoint each (a user who
 * drops base and phase checkpoints together wants them side by side, not merged). A LoRA adapter
 * (adapter_model.safetensors + adapter_config.json) dropped with one base model is one checkpoint:
 * the base with the adapter merged in.
 */
export interface PickedFile {
  file: File;
  /** path inside the dropped folder ("model/shard.safetensors"), or just the name */
  path: string;
}

const SHARD = /-\d{5}-of-\d{5}\.(safetensors|gguf)$/i;
const WEIGHTS = /\.(safetensors|gguf)$/i;
const ADAPTER = /^adapter_model\.safetensors$/i;
/** what a checkpoint reads beside its weights */
const CHECKPOINT_SIDE_FILE = /^(config\.json|adapter_config\.json|.*\.safetensors\.index\.json)$/i;

/** One checkpoint found in a drop: its files, and the folder they came from ("" for loose files). */
export interface CheckpointGroup {
  /** the folder's own name, when the files came in one */
  name?: string;
  /** the folder's path inside the drop ("models--Org--Name/snapshots/abc"), for the model's name */
  folder?: string;
  files: File[];
}

/** A dropped file that opens nothing, and why (shown on the page, never dropped in silence). */
export interface IgnoredFile {
  path: string;
  reason: string;
}

const EXPECTED = 'expected .safetensors, .gguf, a folder with model.safetensors.index.json, an adapter folder, or snr_results_*.json';

function ignoredBecause(name: string, size: number): string {
  if (name === 'adapter_config.json') return 'found an adapter config but no adapter_model.safetensors beside it';
  if (name === 'config.json') return 'found a model config but no weights beside it';
  if (/\.safetensors\.index\.json$/i.test(name)) return 'found a shard index but none of its shards';
  if (size === 0) return `an empty file, not a checkpoint (${EXPECTED})`;
  return `not a checkpoint (${EXPECTED})`;
}

/**
 * The dropped files that open nothing: every file of a folder (or of the loose files) without weights,
 * and loose files beside weights that belong to no checkpoint. A model folder's own extras
 * (tokenizer, README) are not listed: the folder did open.
 */
export function ignoredFiles(picked: readonly PickedFile[]): IgnoredFile[] {
  const used = new Set(groupCheckpoints(picked).flatMap((g) => g.files));
  const folderOpened = new Set(
    picked.filter((p) => used.has(p.file)).map((p) => (p.path.includes('/') ? p.path.slice(0, p.path.lastIndexOf('/')) : '')),
  );
  return picked
    .filter((p) => !used.has(p.file))
    .filter((p) => !p.path.includes('/') || !folderOpened.has(p.path.slice(0, p.path.lastIndexOf('/'))))
    .map((p) => ({ path: p.path, reason: ignoredBecause(p.file.name, p.file.size) }));
}

export function groupCheckpoints(picked: readonly PickedFile[]): CheckpointGroup[] {
  const byFolder = new Map<string, PickedFile[]>();
  for (const p of picked) {
    const folder = p.path.includes('/') ? p.path.slice(0, p.path.lastIndexOf('/')) : '';
    if (!byFolder.has(folder)) byFolder.set(folder, []);
    byFolder.get(folder)!.push(p);
  }
  const groups: CheckpointGroup[] = [];
  for (const [folder, list] of byFolder) {
    const weights = list.filter((p) => WEIGHTS.test(p.file.name));
    const hasIndex = list.some((p) => /\.safetensors\.index\.json$/i.test(p.file.name));
    const config = list.filter((p) => p.file.name === 'config.json').map((p) => p.file);
    const adapterConfig = list.filter((p) => p.file.name === 'adapter_config.json').map((p) => p.file);
    const bases = weights.filter((w) => !ADAPTER.test(w.file.name));
    const name = folder ? folder.split('/').pop() : undefined;
    if (weights.length === 0 && !hasIndex) continue;
    if (folder || hasIndex || weights.length <= 1 || bases.length <= 1 || bases.every((w) => SHARD.test(w.file.name))) {
      // loose files beside the weights join them only if a checkpoint reads them (the rest are listed as ignored)
      const files = folder ? list : list.filter((p) => WEIGHTS.test(p.file.name) || CHECKPOINT_SIDE_FILE.test(p.file.name));
      groups.push({ ...(name ? { name, folder } : {}), files: files.map((p) => p.file) });
    } else {
      // adapter_config.json goes with the adapter only: a base model's tied head must not look like an adapter's
      for (const w of weights) groups.push({ files: [w.file, ...(ADAPTER.test(w.file.name) ? adapterConfig : config)] });
    }
  }
  return groups;
}

/** A drop that is a training run: its checkpoints, each a folder with weights (and its trainer_state.json if any). */
export interface RunDrop {
  /** the folder holding the checkpoints ("run" when they were dropped without it) */
  name: string;
  checkpoints: { path: string; files: File[]; trainerState: File | null }[];
}

/**
 * Whether a drop is a training run: two or more checkpoint folders side by side in one folder, each named with a
 * step (`checkpoint-500`, `step_1000`, …) or holding a trainer_state.json (the Trainer layout). Null otherwise.
 */
export function runOfDrop(picked: readonly PickedFile[]): RunDrop | null {
  const groups = groupCheckpoints(picked);
  if (groups.length < 2 || groups.some((g) => !g.folder)) return null;
  const parentOf = (folder: string) => (folder.includes('/') ? folder.slice(0, folder.lastIndexOf('/')) : '');
  const parent = parentOf(groups[0].folder!);
  if (groups.some((g) => parentOf(g.folder!) !== parent)) return null;
  const checkpoints = groups.map((g) => {
    const trainerState = g.files.find((f) => f.name === 'trainer_state.json') ?? null;
    return { path: g.folder!, files: g.files.filter((f) => f !== trainerState), trainerState };
  });
  if (!checkpoints.every((c) => c.trainerState !== null || stepOfName(c.path.split('/').pop()!) !== null)) return null;
  return { name: parent.split('/').pop() || 'run', checkpoints };
}
