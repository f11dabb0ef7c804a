import { ExchangeSegment } from '@app/dhan/types';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { MarketCalendar } from './market-calendar';
import { Exchange, MarketPhase } from './market-calendar.types';

/** What a client is told about an exchange: trading, in its pre-open auction, or closed. */
export enum MarketStatusKind {
  OPEN = 'OPEN',
  PRE_OPEN = 'PRE_OPEN',
  CLOSED = 'CLOSED',
}

export interface MarketStatus {
  exchange: Exchange;
  status: MarketStatusKind;
  /** The calendar's finer phase (POST_CLOSE shows as CLOSED in `status`). */
  phase: MarketPhase;
  /** IST date of the session the instant falls in, or of the next one when closed. */
  tradingDate: string | null;
  /** When the current session closes (OPEN or PRE_OPEN), else null. */
  closesAt: Date | null;
  /** The next normal-session open strictly after the instant (null when OPEN). */
  nextOpen: Date | null;
}

/** The segment whose hours stand for the exchange: its cash (MCX: commodity) market. */
const EXCHANGE_SEGMENT: Readonly<Record<Exchange, ExchangeSegment>> = {
  [Exchange.NSE]: ExchangeSegment.NSE_EQ,
  [Exchange.BSE]: ExchangeSegment.BSE_EQ,
  [Exchange.MCX]: ExchangeSegment.MCX_COMM,
};

/** Pure: an exchange's status at an instant, from the market calendar. */
export function marketStatusAt(
  calendar: MarketCalendar,
  exchange: Exchange,
  at: Date,
): MarketStatus {
  const segment = EXCHANGE_SEGMENT[exchange];
  const phase = calendar.phase(segment, at);
  const status =
    phase === MarketPhase.OPEN
      ? MarketStatusKind.OPEN
      : phase === MarketPhase.PRE_OPEN
        ? MarketStatusKind.PRE_OPEN
        : MarketStatusKind.CLOSED;
  const session = calendar.session(segment, at);
  const nextOpen = status === MarketStatusKind.OPEN ? null : calendar.nextOpen(segment, at);
  return {
    exchange,
    status,
    phase,
    tradingDate:
      status === MarketStatusKind.CLOSED
        ? nextOpen
          ? calendar.tradingDate(nextOpen)
          : null
        : (session?.tradingDate ?? null),
    closesAt: status === MarketStatusKind.CLOSED ? null : (session?.close ?? null),
    nextOpen,
  };
}

/** `marketStatus` per exchange, from the calendar and the application's clock. */
@Injectable()
export class MarketStatusService {
  constructor(
    private readonly calendar: MarketCalendar,
    private readonly clock: Clock,
  ) {}

  status(exchange: Exchange, at: Date = this.clock.now()): MarketStatus {
    return marketStatusAt(this.calendar, exchange, at);
  }

  all(at: Date = this.clock.now()): MarketStatus[] {
    return Object.values(Exchange).map((e) => marketStatusAt(this.calendar, e, at));
  }
}
