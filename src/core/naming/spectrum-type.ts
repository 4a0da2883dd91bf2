/**
 * Spectrum's view of names (docs/formats.md): a module is a tensor name without ".weight";
 * its type is what follows the first all-digit part, or the whole name when there is none.
 */
export function spectrumModuleName(tensorName: string): string {
  return tensorName.replace(/\.weight$/, '');
}

export function spectrumType(moduleName: string): string {
  const parts = moduleName.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  return i < 0 ? moduleName : parts.slice(i + 1).join('.');
}

/** The first all-digit part of a dotted name, if any: the block (layer) index in every family we know. */
export function firstIndex(name: string): number | null {
  const m = /(?:^|\.)(\d+)(?:\.|$)/.exec(name);
  return m ? Number(m[1]) : null;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Spectrum's type order: grouped by the first dotted part, groups sorted, names sorted within. */
export function compareSpectrumTypes(a: string, b: string): number {
  return cmp(a.split('.')[0], b.split('.')[0]) || cmp(a, b);
}

/**
 * Model order: layer 2 before layer 10. Names are compared part by part, digit parts as numbers;
 * within a type, where names differ only in their indices, this is the order in which a model
 * registers its modules.
 */
export function compareModelOrder(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return cmp(x, y);
  }
  return pa.length - pb.length;
}
