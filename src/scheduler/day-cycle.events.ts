import type { ExchangeGroup } from './day-cycle.service';

/** Emitted on the Nest EventEmitter2 after an end or start of day ran (outcome DONE) here. */
export const DAY_CYCLE_DONE = 'day-cycle.done';

export type DayCycleDoneEvent =
  { kind: 'EOD'; group: ExchangeGroup; tradingDate: string } | { kind: 'SOD'; tradingDate: string };
