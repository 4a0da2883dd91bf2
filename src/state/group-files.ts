/**
 * What a drop or a pick means: which files form one checkpoint. A folder is one checkpoint; an index
 * with its shards is one; several unrelated .safetensors files are one checkpoint each (a user who
 * drops base and phase checkpoints together wants them side by side, not merged).
 */
export interface PickedFile {
  file: File;
  /** path inside the dropped folder ("model/shard.safetensors"), or just the name */
  path: string;
}

const SHARD = /-\d{5}-of-\d{5}\.safetensors$/i;
const SIDE = new Set(['config.json', 'adapter_config.json']);

export function groupCheckpoints(picked: readonly PickedFile[]): { name?: string; files: File[] }[] {
  const byFolder = new Map<string, PickedFile[]>();
  for (const p of picked) {
    const folder = p.path.includes('/') ? p.path.slice(0, p.path.lastIndexOf('/')) : '';
    if (!byFolder.has(folder)) byFolder.set(folder, []);
    byFolder.get(folder)!.push(p);
  }
  const groups: { name?: string; files: File[] }[] = [];
  for (const [folder, list] of byFolder) {
    const weights = list.filter((p) => /\.safetensors$/i.test(p.file.name));
    const hasIndex = list.some((p) => /\.safetensors\.index\.json$/i.test(p.file.name));
    const side = list.filter((p) => SIDE.has(p.file.name)).map((p) => p.file);
    const name = folder ? folder.split('/').pop() : undefined;
    if (weights.length === 0 && !hasIndex) continue;
    if (folder || hasIndex || weights.length <= 1 || weights.every((w) => SHARD.test(w.file.name))) {
      groups.push({ ...(name ? { name } : {}), files: list.map((p) => p.file) });
    } else {
      for (const w of weights) groups.push({ files: [w.file, ...side] });
    }
  }
  return groups;
}
