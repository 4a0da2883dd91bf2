// Node's loader (see shader-source.ts): the files beside the sources, read once.
import { readFileSync } from 'node:fs';
import { SHADER_NAMES, type ShaderName, type ShaderSources } from './shader-source.ts';

let cached: ShaderSources | undefined;

/** `dir`: where the .wgsl files are (default: the repository's shaders/, found from this file). */
export function nodeShaders(dir: URL = new URL('../../../shaders/', import.meta.url)): ShaderSources {
  if (cached && dir.href === new URL('../../../shaders/', import.meta.url).href) return cached;
  const entries = SHADER_NAMES.map((name): [ShaderName, string] => [name, readFileSync(new URL(`${name}.wgsl`, dir), 'utf8')]);
  const sources = Object.fromEntries(entries) as Record<ShaderName, string>;
  if (dir.href === new URL('../../../shaders/', import.meta.url).href) cached = sources;
  return sources;
}
