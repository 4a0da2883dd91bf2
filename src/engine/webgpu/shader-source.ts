/**
 * The WGSL kernels live in shaders/*.wgsl, one family per file. How their text reaches the engine
 * depends on the entry point: the page's bundle imports them with Vite's `?raw`
 * (shaders-vite.ts), Node (CLI, vitest, benchmarks) reads the files (shaders-node.ts). Both hand the
 * files' text to assembleShaders, which puts before each shader the shared files it uses (WGSL has
 * no includes); the engine itself only sees the ShaderSources, so neither loader leaks into the
 * other build.
 */
export const SHADER_NAMES = ['gram', 'householder', 'householder-small', 'tridiagonal-eigenvalues', 'krylov', 'powerlaw-xmin'] as const;

export type ShaderName = (typeof SHADER_NAMES)[number];

/** WGSL files that are no shader of their own: functions that several shaders share. */
export const SHADER_LIBRARIES = ['reductions'] as const;

export type ShaderLibrary = (typeof SHADER_LIBRARIES)[number];

/** The shared files each shader is compiled with, in this order, before its own text. */
const LIBRARIES_OF: Readonly<Record<ShaderName, readonly ShaderLibrary[]>> = {
  gram: [],
  householder: ['reductions'],
  'householder-small': ['reductions'],
  'tridiagonal-eigenvalues': [],
  krylov: [],
  'powerlaw-xmin': [],
};

/** The text of every .wgsl file, by its name without the extension, as a loader reads it. */
export type ShaderFiles = Readonly<Record<ShaderName | ShaderLibrary, string>>;

/** One file's lines in a shader's code: lines firstLine .. firstLine + lines − 1 (1-based). */
export interface ShaderPart {
  readonly file: string;
  readonly firstLine: number;
  readonly lines: number;
}

/** What a shader module is made from: its code, and which file each of its lines comes from. */
export interface ShaderSource {
  readonly code: string;
  readonly parts: readonly ShaderPart[];
}

export type ShaderSources = Readonly<Record<ShaderName, ShaderSource>>;

/** Each shader's code: the shared files it uses, then its own file, each ending with a line break. */
export function assembleShaders(files: ShaderFiles): ShaderSources {
  const entries = SHADER_NAMES.map((name): [ShaderName, ShaderSource] => {
    let code = '';
    const parts: ShaderPart[] = [];
    for (const file of [...LIBRARIES_OF[name], name]) {
      const text = files[file].endsWith('\n') ? files[file] : `${files[file]}\n`;
      const lines = text.split('\n').length - 1;
      parts.push({ file: `${file}.wgsl`, firstLine: code.split('\n').length, lines });
      code += text;
    }
    return [name, { code, parts }];
  });
  return Object.fromEntries(entries) as Record<ShaderName, ShaderSource>;
}

/** `file.wgsl:line` of line `lineNum` (1-based) of a shader's code, as the compiler numbers it. */
export function sourceLine(source: ShaderSource, lineNum: number): string {
  const own = source.parts[source.parts.length - 1];
  const part = source.parts.find((p) => lineNum >= p.firstLine && lineNum < p.firstLine + p.lines);
  // a message about no line in particular (line 0) is the shader's own
  return part ? `${part.file}:${lineNum - part.firstLine + 1}` : `${own.file}:${lineNum}`;
}
