import { useEffect } from 'react';
import { ownValue } from '../core/data-record.ts';
import { useApp } from '../state/store.ts';
import { CacheControl } from './CacheControl.tsx';
import { CheckpointTabs } from './CheckpointTabs.tsx';
import { CheckpointView } from './CheckpointView.tsx';
import { DeltaPage } from './delta/DeltaPage.tsx';
import { DropZone } from './DropZone.tsx';
import { PhasesPage } from './phases/PhasesPage.tsx';
import { RunPage } from './run/RunPage.tsx';
import { SessionMenu } from './SessionMenu.tsx';
import { Toolbar } from './Toolbar.tsx';
import { ViewBoundary } from './ViewBoundary.tsx';
import type { Page } from '../state/types.ts';

export function App() {
  const engine = useApp((s) => s.engine);
  const setEngine = useApp((s) => s.setEngine);
  const cacheProblem = useApp((s) => s.cache.problem);
  const setCache = useApp((s) => s.setCache);
  const ignored = useApp((s) => s.ignored);
  const setIgnored = useApp((s) => s.setIgnored);
  const active = useApp((s) => (s.view.activeId ? ownValue(s.checkpoints, s.view.activeId) : undefined));
  const page = useApp((s) => s.view.page);
  const setView = useApp((s) => s.setView);
  const pages: { id: Page; label: string }[] = [
    { id: 'checkpoint', label: 'Checkpoint' },
    { id: 'phases', label: 'Phases' },
    { id: 'delta', label: 'ΔW' },
    { id: 'run', label: 'Run' },
  ];

  useEffect(() => {
    const update = () => setEngine({ online: navigator.onLine });
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, [setEngine]);

  return (
    <div className="app">
      <header className="top">
        <h1>Spectral Workbench</h1>
        <SessionMenu />
        <span className={`badge engine-${engine.kind}`} data-testid="engine-badge" title={engine.note}>
          {engine.kind === 'webgpu' ? 'WebGPU' : 'CPU'} engine
        </span>
        <span className="badge local" title="No request leaves this page: no fonts, no CDNs, no telemetry. It works offline.">
          Local only · {engine.online ? 'works offline' : 'offline'}
        </span>
      </header>
      <main>
        {engine.fallback && (
          <p className="engine-notice" role="status">
            {engine.fallback}
            <button aria-label="Dismiss" onClick={() => setEngine({ fallback: null })}>
              ×
            </button>
          </p>
        )}
        {cacheProblem && (
          <p className="engine-notice" role="status">
            {cacheProblem}
            <button aria-label="Dismiss" onClick={() => setCache({ problem: null })}>
              ×
            </button>
          </p>
        )}
        {ignored.length > 0 && (
          <div className="errors ignored" role="alert">
            <strong>Not opened</strong>
            <button aria-label="Dismiss" onClick={() => setIgnored([])}>
              ×
            </button>
            <ul>
              {ignored.map((f) => (
                <li key={f.path}>
                  {f.path}: {f.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
        <DropZone />
        <nav className="pages" aria-label="Views">
          {pages.map((p) => (
            <button
              key={p.id}
              aria-pressed={page === p.id}
              className={page === p.id ? 'active' : ''}
              onClick={() => setView({ page: p.id })}
            >
              {p.label}
            </button>
          ))}
        </nav>
        {page === 'checkpoint' && (
          <ViewBoundary name="The tabs">
            <CheckpointTabs />
          </ViewBoundary>
        )}
        {page !== 'delta' && page !== 'run' && <Toolbar />}
        {page === 'phases' ? (
          <ViewBoundary name="The phases view">
            <PhasesPage />
          </ViewBoundary>
        ) : page === 'run' ? (
          <ViewBoundary name="The Run page">
            <RunPage />
          </ViewBoundary>
        ) : page === 'delta' ? (
          <ViewBoundary name="The ΔW view">
            <DeltaPage />
          </ViewBoundary>
        ) : active ? (
          <ViewBoundary name={`The view of ${active.name}`} resetKey={active.id}>
            <CheckpointView key={active.id} checkpoint={active} />
          </ViewBoundary>
        ) : (
          <p className="muted">Loading the demo…</p>
        )}
      </main>
      <footer className="muted">
        <p>Spectrum SNR as in Hartford et al. 2024 (spectrum.py). Everything runs in this tab; your weights never leave this machine.</p>
        <CacheControl />
      </footer>
    </div>
  );
}
