// Node's loader (see shader-source.ts): the files beside the sources, read once.
import { readFileSync } from 'node:fs';
import { assembleShaders, SHADER_LIBRARIES, SHADER_NAMES, type ShaderFiles, type ShaderSources } from './shader-source.ts';

const REPOSITORY_SHADERS = new URL('../../../shaders/', import.meta.url);
let cached: ShaderSources | undefined;

/** The text of every .wgsl file in `dir` (default: the repository's shaders/, found from this file). */
export function nodeShaderFiles(dir: URL = REPOSITORY_SHADERS): ShaderFiles {
  const names = [...SHADER_NAMES, ...SHADER_LIBRARIES];
  return Object.fromEntries(names.map((name) => [name, readFileSync(new URL(`${name}.wgsl`, dir), 'utf8')])) as Record<
    keyof ShaderFiles,
    string
  >;
}

/** The shaders as the engine compiles them, from the .wgsl files in `dir` (see nodeShaderFiles). */
export function nodeShaders(dir: URL = REPOSITORY_SHADERS): ShaderSources {
  const own = dir.href === REPOSITORY_SHADERS.href;
  if (own && cached) return cached;
  const sources = assembleShaders(nodeShaderFiles(dir));
  if (own) cached = sources;
  return sources;
}
