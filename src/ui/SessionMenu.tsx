import { useRef, useState } from 'react';
import { ownValue } from '../core/data-record.ts';
import { deleteSession, listSessions, saveSession, type SavedSession } from '../state/cache.ts';
import { appStore } from '../state/store.ts';
import { scanner } from '../state/scanner.ts';
import { parseSession, serializeSession } from '../state/session.ts';
import { useClickOutside, useEscapeToClose } from './dismiss.ts';
import { download } from './download.ts';

function currentSessionText(): string {
  const s = appStore.getState();
  return serializeSession(
    s.order.flatMap((id) => ownValue(s.checkpoints, id) ?? []),
    s.plan,
    s.view,
    s.delta,
  );
}

/** Save the plan, the results and the view (a file, and in this browser); reopen either. */
export function SessionMenu() {
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState<SavedSession[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  // a popover: Escape closes it (the focus back on its button), and so does a click anywhere else
  useEscapeToClose(open, () => {
    setOpen(false);
    toggle.current?.focus();
  });
  useClickOutside(open, menu, () => setOpen(false));

  const reopen = (text: string, name: string) => {
    try {
      scanner.openSession(parseSession(text, name));
      setMessage(`Opened ${name}`);
      setOpen(false);
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  const refresh = async () => setSaved(await listSessions().catch(() => []));
  /** A click whose work may fail (IndexedDB refused, a file gone): the status line says what did not happen. */
  const attempt = (what: string, action: () => Promise<void>) => () =>
    void action().catch((e: unknown) => setMessage(`${what}: ${e instanceof Error ? e.message : String(e)}`));

  return (
    <div className="session-menu" ref={menu}>
      <button
        ref={toggle}
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
          void refresh();
        }}
      >
        Session ▾
      </button>
      {open && (
        <div className="session-panel" role="dialog" aria-label="Session">
          <div className="buttons">
            <button
              onClick={() =>
                download(
                  `spectral-workbench-session-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.swb.json`,
                  currentSessionText(),
                  'application/json',
                )
              }
            >
              Save as file
            </button>
            <button
              onClick={attempt('Not saved in this browser', async () => {
                const name = `Session ${new Date().toLocaleString()}`;
                await saveSession({ name, savedAt: Date.now(), text: currentSessionText() });
                setMessage(`Saved in this browser as “${name}”`);
                await refresh();
              })}
            >
              Save in this browser
            </button>
            <button onClick={() => input.current?.click()}>Open file…</button>
          </div>
          <input
            ref={input}
            type="file"
            accept=".json"
            hidden
            data-testid="session-input"
            onChange={(e) => {
              // read the input now: React empties e.currentTarget once this handler returns, before the file's text comes
              const f = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (f) attempt(`Could not read ${f.name}`, async () => reopen(await f.text(), f.name))();
            }}
          />
          {saved.length > 0 && (
            <ul className="saved-sessions">
              {saved.map((s) => (
                <li key={s.name}>
                  <span>{s.name}</span>
                  <button onClick={() => reopen(s.text, s.name)}>Open</button>
                  <button
                    aria-label={`Delete ${s.name}`}
                    onClick={attempt('Not deleted', async () => {
                      await deleteSession(s.name);
                      await refresh();
                    })}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {message && (
        <span className="muted session-message" role="status">
          {message}
        </span>
      )}
    </div>
  );
}
