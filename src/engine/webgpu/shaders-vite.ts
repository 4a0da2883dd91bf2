// The page's loader (see shader-source.ts): Vite inlines each file's text into the bundle.
import gram from '../../../shaders/gram.wgsl?raw';
import householder from '../../../shaders/householder.wgsl?raw';
import householderSmall from '../../../shaders/householder-small.wgsl?raw';
import krylov from '../../../shaders/krylov.wgsl?raw';
import powerlawXmin from '../../../shaders/powerlaw-xmin.wgsl?raw';
import reductions from '../../../shaders/reductions.wgsl?raw';
import tridiagonalEigenvalues from '../../../shaders/tridiagonal-eigenvalues.wgsl?raw';
import { assembleShaders, type ShaderSources } from './shader-source.ts';

export const viteShaders: ShaderSources = assembleShaders({
  gram,
  householder,
  'householder-small': householderSmall,
  'tridiagonal-eigenvalues': tridiagonalEigenvalues,
  krylov,
  'powerlaw-xmin': powerlawXmin,
  reductions,
});
