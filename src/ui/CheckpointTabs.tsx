import { useState } from 'react';
import { ownValue } from '../core/data-record.ts';
import { scanner } from '../state/scanner.ts';
import { useApp } from '../state/store.ts';

/** A tab's name as a text field: Enter keeps it, Escape or an empty name leaves it as it was. */
function RenameField({ id, name, done }: { id: string; name: string; done(): void }) {
  const [text, setText] = useState(name);
  const commit = () => {
    scanner.renameCheckpoint(id, text);
    done();
  };
  return (
    <input
      className="tab-rename"
      aria-label={`New name for ${name}`}
      value={text}
      autoFocus
      onFocus={(e) => e.currentTarget.select()}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') done();
      }}
    />
  );
}

/**
 * The loaded checkpoints, one tab each, with how far their scan is. × (or Delete on a tab) closes
 * one, with Undo; a double click (or F2) renames it, and its exports take the new name.
 */
export function CheckpointTabs() {
  const order = useApp((s) => s.order);
  const checkpoints = useApp((s) => s.checkpoints);
  const activeId = useApp((s) => s.view.activeId);
  const setView = useApp((s) => s.setView);
  const closed = useApp((s) => s.closed);
  const [renaming, setRenaming] = useState<string | null>(null);
  if (order.length === 0 && !closed) return null;
  return (
    <>
      {closed && (
        <p className="engine-notice" role="status">
          Closed {closed.checkpoint.name}.{' '}
          <button type="button" onClick={() => scanner.undoClose()}>
            Undo
          </button>
          <button type="button" aria-label="Dismiss" onClick={() => scanner.dismissClosed()}>
            ×
          </button>
        </p>
      )}
      <nav className="tabs" role="tablist" aria-label="Checkpoints">
        {order.map((id) => {
          const c = ownValue(checkpoints, id);
          if (!c) return null;
          const done = Object.keys(c.records).length;
          return (
            <span key={id} className={`tab${id === activeId ? ' active' : ''}`}>
              {renaming === id ? (
                <RenameField id={id} name={c.name} done={() => setRenaming(null)} />
              ) : (
                <button
                  role="tab"
                  aria-selected={id === activeId}
                  className={id === activeId ? 'active' : ''}
                  onClick={() => setView({ activeId: id, selected: null, focused: null })}
                  onDoubleClick={() => setRenaming(id)}
                  onKeyDown={(e) => {
                    if (e.key === 'Delete') scanner.closeCheckpoint(id);
                    if (e.key === 'F2') setRenaming(id);
                  }}
                  title={c.failure ?? `${c.name} (double-click or F2 to rename)`}
                >
                  <span className="tab-name">{c.name}</span>
                  <span className={`tab-status ${c.status}`}>
                    {c.status === 'failed'
                      ? 'error'
                      : c.status === 'done'
                        ? `${done} matrices`
                        : c.status === 'cancelled'
                          ? `${done} · cancelled`
                          : `${done}/${c.totalJobs || '…'}`}
                    {c.errors.length > 0 && c.status !== 'failed' ? ` · ${c.errors.length} ⚠` : ''}
                  </span>
                </button>
              )}
              <button
                className="tab-close"
                aria-label={`Close ${c.name}`}
                title="Close: the results stay in the cache"
                onClick={() => scanner.closeCheckpoint(id)}
              >
                ×
              </button>
            </span>
          );
        })}
      </nav>
    </>
  );
}
