import { ownValue } from '../core/data-record.ts';
import { scanner } from '../state/scanner.ts';
import { useApp } from '../state/store.ts';

/** The loaded checkpoints, one tab each, with how far their scan is; × (or Delete on a tab) closes one. */
export function CheckpointTabs() {
  const order = useApp((s) => s.order);
  const checkpoints = useApp((s) => s.checkpoints);
  const activeId = useApp((s) => s.view.activeId);
  const setView = useApp((s) => s.setView);
  if (order.length === 0) return null;
  return (
    <nav className="tabs" role="tablist" aria-label="Checkpoints">
      {order.map((id) => {
        const c = ownValue(checkpoints, id);
        if (!c) return null;
        const done = Object.keys(c.records).length;
        return (
          <span key={id} className={`tab${id === activeId ? ' active' : ''}`}>
            <button
              role="tab"
              aria-selected={id === activeId}
              className={id === activeId ? 'active' : ''}
              onClick={() => setView({ activeId: id, selected: null, focused: null })}
              onKeyDown={(e) => {
                if (e.key === 'Delete') scanner.closeCheckpoint(id);
              }}
              title={c.failure ?? c.name}
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
  );
}
