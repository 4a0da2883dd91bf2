/** The toolbar's percent: the slider and the field share one range. */
export const PERCENT_MIN = 1;
export const PERCENT_MAX = 100;

/** Digits with an optional decimal point: what Number() reads without surprises ("" is not 0, "0x10" is not 16). */
const DECIMAL = /^(\d+\.?\d*|\.\d+)$/;

export type PercentInput = { ok: true; value: number } | { ok: false; reason: string };

/** What the percent field holds: a percent to use, or why the text is refused (the last valid percent stays). */
export function readPercent(text: string): PercentInput {
  const t = text.trim();
  if (t === '') return { ok: false, reason: `Enter a percent from ${PERCENT_MIN} to ${PERCENT_MAX}` };
  const n = DECIMAL.test(t) ? Number(t) : NaN;
  if (!(n >= PERCENT_MIN && n <= PERCENT_MAX)) return { ok: false, reason: `${t}: the percent is from ${PERCENT_MIN} to ${PERCENT_MAX}` };
  return { ok: true, value: n };
}
