import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useSideBySide } from './detail-layout.ts';

interface Props {
  /** the heading: which matrix */
  title: ReactNode;
  onClose(): void;
  children: ReactNode;
}

/**
 * The matrix detail's frame. On a wide page a panel beside the grid; on a narrower one a dialog over the right of the
 * page (the heatmap stays in view beside it), so that opening a cell never puts the detail below the fold. The dialog
 * takes the focus (its close button); Escape, × or a click beside it closes it. Either way, closing it puts the focus
 * back where it was when the detail opened (the grid, on its cell) if the focus was in the detail.
 */
export function DetailFrame({ title, onClose, children }: Props) {
  const sideBySide = useSideBySide();
  const frame = useRef<HTMLElement | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [opener] = useState(() => {
    const active = document.activeElement;
    return active instanceof HTMLElement && !active.closest('.detail') ? active : null;
  });

  useEffect(() => {
    const d = dialog.current;
    if (sideBySide || !d) return;
    if (!d.open) d.showModal();
    closeButton.current?.focus();
  }, [sideBySide]);

  // before the frame leaves the page (its focus with it): close the dialog, or the page under it stays inert
  useLayoutEffect(
    () => () => {
      const active = document.activeElement;
      const focusInside = !active || active === document.body || !!frame.current?.contains(active);
      if (dialog.current?.open) dialog.current.close();
      if (focusInside && opener?.isConnected) opener.focus();
    },
    [opener],
  );

  const body = (
    <>
      <header>
        <h2>{title}</h2>
        <button ref={closeButton} onClick={onClose} aria-label="Close detail">
          ×
        </button>
      </header>
      {children}
    </>
  );
  if (sideBySide) {
    return (
      <section
        className="detail"
        aria-label="Matrix detail"
        ref={(el) => {
          frame.current = el;
        }}
      >
        {body}
      </section>
    );
  }
  return (
    <dialog
      className="detail detail-dialog"
      aria-label="Matrix detail"
      ref={(el) => {
        dialog.current = el;
        frame.current = el;
      }}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      // the dialog's own box is only its backdrop: its content fills it
      onClick={(e) => e.target === e.currentTarget && onClose()}
    >
      <div className="detail-dialog-body">{body}</div>
    </dialog>
  );
}
