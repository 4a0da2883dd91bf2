import { useEffect, useRef, type RefObject } from 'react';

/**
 * What Escape closes, the last opened on top: one press closes one thing (the Session popover
 * before the matrix detail under it). The one listener runs in the capture phase, before the page's
 * own key handlers, and marks the press as used (preventDefault) so that they leave it alone.
 */
const escapeStack: RefObject<() => void>[] = [];

/** A field being typed in keeps its Escape (a tab's name being edited goes back to what it was). */
const TYPING =
  'textarea, select, [contenteditable]:not([contenteditable="false"]), input:not([type="checkbox"], [type="radio"], [type="range"], [type="button"], [type="file"])';
const typingIn = (target: EventTarget | null) => target instanceof Element && target.matches(TYPING);

function onEscapeKey(e: KeyboardEvent): void {
  if (e.key !== 'Escape' || e.defaultPrevented || typingIn(e.target)) return;
  const top = escapeStack.at(-1);
  if (!top) return;
  e.preventDefault();
  top.current();
}

/** While `open`, Escape anywhere on the page calls `close` (unless something opened later takes it). */
export function useEscapeToClose(open: boolean, close: () => void): void {
  const latest = useRef(close);
  useEffect(() => {
    latest.current = close;
  });
  useEffect(() => {
    if (!open) return;
    escapeStack.push(latest);
    if (escapeStack.length === 1) document.addEventListener('keydown', onEscapeKey, true);
    return () => {
      escapeStack.splice(escapeStack.lastIndexOf(latest), 1);
      if (escapeStack.length === 0) document.removeEventListener('keydown', onEscapeKey, true);
    };
  }, [open]);
}

/** While `open`, a press of the pointer outside `inside`'s element calls `close` (a popover's light dismiss). */
export function useClickOutside(open: boolean, inside: RefObject<HTMLElement | null>, close: () => void): void {
  const latest = useRef(close);
  useEffect(() => {
    latest.current = close;
  });
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (e: PointerEvent) => {
      if (inside.current && e.target instanceof Node && !inside.current.contains(e.target)) latest.current();
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => document.removeEventListener('pointerdown', onPointerDown, true);
  }, [open, inside]);
}
