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

export function groupCheckpoints(picked: readonly PickedFile[]): { name?: string; files: File[] }[] {
  const byFolder = new Map<string, PickedFile[]>();
  for (const p of picked) {
    const folder = p.path.includes('/') ? p.path.slice(0, p.path.lastIndexOf('/')) : '';
    if (!byFolder.has(folder)) byFolder.set(folder, []);
    byFolder.get(folder)!.push(p);
  }
  const groups: { name?: string; files: File[] }[] = [];
  for (const [folder, list] of byFolder) {
    const weights = list.filter((p) => WEIGHTS.test(p.file.name));
    const hasIndex = list.some((p) => /\.safetensors\.index\.json$/i.test(p.file.name));
    const config = list.filter((p) => p.file.name === 'config.json').map((p) => p.file);
    const adapterConfig = list.filter((p) => p.file.name === 'adapter_config.json').map((p) => p.file);
    const bases = weights.filter((w) => !ADAPTER.test(w.file.name));
    const name = folder ? folder.split('/').pop() : undefined;
    if (weights.length === 0 && !hasIndex) continue;
    if (folder || hasIndex || weights.length <= 1 || bases.length <= 1 || bases.every((w) => SHARD.test(w.file.name))) {
      groups.push({ ...(name ? { name } : {}), files: list.map((p) => p.file) });
    } else {
      // adapter_config.json goes with the adapter only: a base model's tied head must not look like an adapter's
      for (const w of weights) groups.push({ files: [w.file, ...(ADAPTER.test(w.file.name) ? adapterConfig : config)] });
    }
  }
  return groups;
}
