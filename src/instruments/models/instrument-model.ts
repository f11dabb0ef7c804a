import type { ExchangeSegment } from '@app/dhan/types';
import type { InstrumentModel } from './instrument.model';

/** What is known, or a placeholder naming the id, of an instrument missing from the master. */
export function instrumentModelOf(
  known: InstrumentModel | undefined,
  segment: ExchangeSegment,
  securityId: string,
): InstrumentModel {
  return (
    known ?? {
      segment,
      securityId,
      symbol: securityId,
      displayName: securityId,
      instrumentType: '',
      lotSize: 0,
      tickSize: 0,
    }
  );
}
