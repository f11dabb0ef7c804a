/** Event names of the instruments module on the Nest EventEmitter2. */
export const INSTRUMENTS_RELOADED = 'instruments.reloaded';

export type InstrumentsSource = 'download' | 'database';

/** Emitted after each successful swap of the in-memory instrument master. */
export class InstrumentsReloadedEvent {
  constructor(
    readonly version: number,
    readonly count: number,
    /** Where the new master came from. */
    readonly source: InstrumentsSource,
  ) {}
}
