import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startPage } from './state/scanner.ts';
import { appStore } from './state/store.ts';
import { App } from './ui/App.tsx';
import './ui/app.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The workspace of the last visit (tabs, view, plan, ΔW), or the embedded demo, so that the page shows something at once.
startPage().catch((e: unknown) =>
  appStore.getState().setEngine({ note: `demo could not be loaded: ${e instanceof Error ? e.message : String(e)}` }),
);
