/**
 * The WGSL kernels live in shaders/*.wgsl, one family per file. How their text reaches the engine
 * depends on the entry point: the page's bundle imports them with Vite's `?raw`
 * (shaders-vite.ts), Node (CLI, vitest, benchmarks) reads the files (shaders-node.ts). The engine
 * itself only sees a ShaderSources record, so neither loader leaks into the other build.
 */
export const SHADER_NAMES = ['gram', 'householder', 'householder-small', 'tridiagonal-eigenvalues', 'krylov', 'powerlaw-xmin'] as const;

export type ShaderName = (typeof SHADER_NAMES)[number];

export type ShaderSources = Readonly<Record<ShaderName, string>>;
