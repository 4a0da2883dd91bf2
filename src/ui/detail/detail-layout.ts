import { useEffect, useState } from 'react';

/**
 * Wide enough for the matrix detail beside the grid (the `.workspace.with-detail` columns in app.css start at the
 * same width). Narrower, the detail opens as a dialog over the page instead of below the fold.
 */
export const SIDE_BY_SIDE = '(min-width: 1150px)';

/** Whether the page is wide enough for the detail beside the grid, following the window as it is resized. */
export function useSideBySide(): boolean {
  const [wide, setWide] = useState(() => window.matchMedia(SIDE_BY_SIDE).matches);
  useEffect(() => {
    const query = window.matchMedia(SIDE_BY_SIDE);
    const update = () => setWide(query.matches);
    update();
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  return wide;
}
