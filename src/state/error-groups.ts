import type { ErrorRecord } from '../core/errors.ts';

/**
 * Errors grouped for reading: a checkpoint whose every tensor fails (a dtype the page cannot read, a
 * file cut short) gives hundreds of lines that differ only in the tensor's name and its byte offsets.
 * One group per code and detail, numbers aside; each error stays in its group, named by file and tensor.
 */
export interface ErrorGroup {
  code: string;
  /** what went wrong, without the file and the tensor; a number that differs between the errors shows as "…" */
  detail: string;
  /** the details differ in their numbers only (offsets, sizes) */
  numbersVary: boolean;
  /** in natural order of file, then tensor: layer 2 before layer 10 */
  errors: ErrorRecord[];
}

const natural = new Intl.Collator('en', { numeric: true });

/** Compare names as a person reads them: model.layers.2 before model.layers.10. */
export function naturalCompare(a: string, b: string): number {
  return natural.compare(a, b);
}

/** The message without its leading "file: tensor "name": ", as errorRecord wrote it. */
export function errorDetail(e: ErrorRecord): string {
  const where = e.tensor === undefined ? `${e.file}: ` : `${e.file}: tensor "${e.tensor}": `;
  return e.message.startsWith(where) ? e.message.slice(where.length) : e.message;
}

/** Groups, the largest first; within a group the errors in natural order of file and tensor. */
export function groupErrors(errors: readonly ErrorRecord[]): ErrorGroup[] {
  const groups = new Map<string, ErrorGroup>();
  for (const e of errors) {
    const detail = errorDetail(e);
    const key = `${e.code}\u0000${detail.replace(/\d+(\.\d+)?/g, '#')}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { code: e.code, detail, numbersVary: false, errors: [e] });
    else {
      g.errors.push(e);
      if (detail !== g.detail) g.numbersVary = true;
    }
  }
  const out = [...groups.values()];
  for (const g of out) if (g.numbersVary) g.detail = sharedNumbers(g.errors.map(errorDetail));
  for (const g of out) g.errors.sort((a, b) => naturalCompare(a.file, b.file) || naturalCompare(a.tensor ?? '', b.tensor ?? ''));
  return out.sort((a, b) => b.errors.length - a.errors.length || naturalCompare(a.code, b.code));
}

/** What failed, for a checkpoint of which nothing could be analysed: its tensors, or the file itself. */
export function whatFailed(errors: readonly ErrorRecord[]): string {
  const tensors = errors.filter((e) => e.tensor !== undefined).length;
  const files = new Set(errors.filter((e) => e.tensor === undefined).map((e) => e.file)).size;
  const tensorPart = tensors === 0 ? '' : tensors === 1 ? 'its one tensor failed' : `all ${tensors} tensors failed`;
  const filePart = files === 0 ? '' : files === 1 ? 'the file could not be read' : `${files} files could not be read`;
  return [tensorPart, filePart].filter(Boolean).join(' and ');
}

const NUMBER = /\d+(\.\d+)?/g;

/** Details that differ in their numbers only, as one: the numbers they share kept, the others "…". */
function sharedNumbers(details: readonly string[]): string {
  const numbers = details.map((d) => d.match(NUMBER) ?? []);
  let i = 0;
  return details[0].replace(NUMBER, (n) => {
    const at = i++;
    return numbers.every((ns) => ns[at] === n) ? n : '…';
  });
}
