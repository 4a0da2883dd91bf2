/** Re-shards a safetensors file into N shards plus model.safetensors.index.json, tensors shuffled across shards. */
import { readSafetensorsHeader } from '../../src/core/formats/safetensors.ts';
import { memorySource } from '../../src/core/formats/byte-source.ts';
import { buildSafetensors, type FixtureTensor } from './safetensors.ts';

export async function shardSafetensors(bytes: Uint8Array, shards: number, seed = 1): Promise<Map<string, Uint8Array>> {
  const src = memorySource('in.safetensors', bytes);
  const h = await readSafetensorsHeader(src);
  const names = shards.toString().padStart(5, '0');
  const fileOf = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${names}.safetensors`;
  const buckets: FixtureTensor[][] = Array.from({ length: shards }, () => []);
  const weightMap: Record<string, string> = {};
  // A fixed permutation: tensors land in shards in an order that is neither the file's nor sorted.
  const order = h.tensors.map((t, i) => ({ t, k: (i * 7919 + seed * 104729) % 1000003 })).sort((a, b) => a.k - b.k);
  order.forEach(({ t }, i) => {
    const shard = i % shards;
    buckets[shard].push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: bytes.slice(t.begin, t.begin + t.byteLength) });
    weightMap[t.name] = fileOf(shard);
  });
  const files = new Map<string, Uint8Array>();
  buckets.forEach((b, i) => files.set(fileOf(i), buildSafetensors(b.reverse())));
  files.set(
    'model.safetensors.index.json',
    new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2)),
  );
  return files;
}
