/** India's offset from UTC: +05:30 all year (no daylight saving since 1945). */
const IST_OFFSET_MS = 5.5 * 60 * 60 * 1000;

/**
 * The date in India (YYYY-MM-DD) at an instant: the exchanges' trading date. Plain arithmetic
 * on the fixed offset (the tick and order paths call it often; `Intl` formatting costs some
 * microseconds a call); `ist-date.spec.ts` checks it against the time-zone database.
 */
export function istDate(epochMs: number): string {
  return new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 10);
}
