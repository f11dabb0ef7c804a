const IST_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The date in India (YYYY-MM-DD) at an instant: the exchanges' trading date. */
export function istDate(epochMs: number): string {
  return IST_DATE.format(epochMs);
}
