import { useMemo } from 'react';
import type { ErrorRecord } from '../core/errors.ts';
import { errorDetail, groupErrors, naturalCompare, whatFailed, type ErrorGroup } from '../state/error-groups.ts';
import type { CheckpointState } from '../state/types.ts';

/** Tensors named in a group's summary line before "…": the rest are behind "show all". */
const NAMED_IN_SUMMARY = 2;

const where = (e: ErrorRecord) => (e.tensor === undefined ? e.file : `${e.tensor} (${e.file})`);

/** One error as it was, or many that share a code and a reason: one line, and every file and tensor behind "show all". */
function ErrorGroupItem({ group }: { group: ErrorGroup }) {
  const [first] = group.errors;
  if (group.errors.length === 1)
    return (
      <li>
        <code>{first.code}</code> {first.message}
      </li>
    );
  const files = new Set(group.errors.map((e) => e.file));
  const named = group.errors.slice(0, NAMED_IN_SUMMARY).map((e) => e.tensor ?? e.file);
  return (
    <li>
      <details>
        <summary>
          <code>{group.code}</code> {group.errors.length} {group.errors[0].tensor === undefined ? 'files' : 'tensors'}
          {files.size === 1 && group.errors[0].tensor !== undefined ? ` of ${first.file}` : ''}: {group.detail} — {named.join(', ')}
          {group.errors.length > NAMED_IN_SUMMARY ? ', …' : ''} <span className="show-all">(show all)</span>
        </summary>
        <ul>
          {group.errors.map((e, i) => (
            <li key={i}>
              {where(e)}
              {group.numbersVary && <span className="muted"> — {errorDetail(e)}</span>}
            </li>
          ))}
        </ul>
      </details>
    </li>
  );
}

/** What went wrong, one line per file or tensor; and what was skipped or not recognised. */
export function ErrorList({ checkpoint }: { checkpoint: CheckpointState }) {
  const { errors, skipped, unmapped, missing } = checkpoint;
  const groups = useMemo(() => groupErrors(errors), [errors]);
  if (errors.length + skipped.length + unmapped.length + missing.length === 0) return null;
  const nothingAnalysed =
    Object.keys(checkpoint.records).length === 0 && checkpoint.status !== 'scanning' && checkpoint.status !== 'opening';
  return (
    <section className="problems" aria-label="Problems and skipped tensors">
      {errors.length > 0 && (
        <>
          <h3>
            {checkpoint.status === 'failed'
              ? 'The file could not be opened'
              : nothingAnalysed
                ? `Nothing could be analysed: ${whatFailed(errors)}`
                : `${errors.length} error${errors.length === 1 ? '' : 's'} (every other tensor is analysed)`}
          </h3>
          <ul className="errors">
            {groups.map((g) => (
              <ErrorGroupItem key={`${g.code} ${g.detail}`} group={g} />
            ))}
          </ul>
        </>
      )}
      {missing.length > 0 && (
        <details>
          <summary>{missing.length} tensors missing (their shard is absent)</summary>
          <ul>
            {[...missing]
              .sort((a, b) => naturalCompare(a.name, b.name))
              .map((m) => (
                <li key={m.name}>
                  {m.name} <span className="muted">({m.file})</span>
                </li>
              ))}
          </ul>
        </details>
      )}
      {unmapped.length > 0 && (
        <details>
          <summary>{unmapped.length} unmapped tensors (no naming rule knows them; analysed under Spectrum's generic type)</summary>
          <ul>
            {[...unmapped].sort(naturalCompare).map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </details>
      )}
      {skipped.length > 0 && (
        <details>
          <summary>{skipped.length} skipped tensors</summary>
          <ul>
            {[...skipped]
              .sort((a, b) => naturalCompare(a.name, b.name))
              .map((s) => (
                <li key={s.name}>
                  {s.name} <span className="muted">— {s.reason}</span>
                </li>
              ))}
          </ul>
        </details>
      )}
    </section>
  );
}
