import { aCalendar, ist } from './__tests__/calendar.factory';
import { Exchange } from './market-calendar.types';
import { marketStatusAt, MarketStatusKind } from './market-status';

describe('marketStatus from the calendar', () => {
  const { calendar } = aCalendar();
  const at = (exchange: Exchange, local: string) => {
    const s = marketStatusAt(calendar, exchange, ist(local));
    return {
      status: s.status,
      tradingDate: s.tradingDate,
      closesAt: s.closesAt?.toISOString() ?? null,
      nextOpen: s.nextOpen?.toISOString() ?? null,
    };
  };

  it('is OPEN during the NSE session, with its close and no next open', () => {
    expect(at(Exchange.NSE, '2026-11-23T10:00')).toEqual({
      status: MarketStatusKind.OPEN,
      tradingDate: '2026-11-23',
      closesAt: '2026-11-23T10:00:00.000Z', // 15:30 IST
      nextOpen: null,
    });
  });

  it('is PRE_OPEN from 09:00 to 09:15 IST on NSE and BSE', () => {
    for (const exchange of [Exchange.NSE, Exchange.BSE]) {
      expect(at(exchange, '2026-11-23T09:05')).toEqual({
        status: MarketStatusKind.PRE_OPEN,
        tradingDate: '2026-11-23',
        closesAt: '2026-11-23T10:00:00.000Z',
        nextOpen: '2026-11-23T03:45:00.000Z', // 09:15 IST
      });
    }
  });

  it('is CLOSED after the close, opening next morning', () => {
    expect(at(Exchange.NSE, '2026-11-23T16:00')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      closesAt: null,
      nextOpen: '2026-11-25T03:45:00.000Z', // 24 Nov is a holiday
      tradingDate: '2026-11-25',
    });
  });

  it('is CLOSED over the weekend, opening on Monday', () => {
    expect(at(Exchange.NSE, '2026-11-21T12:00')).toEqual({
      status: MarketStatusKind.CLOSED,
      tradingDate: '2026-11-23',
      closesAt: null,
      nextOpen: '2026-11-23T03:45:00.000Z',
    });
    expect(at(Exchange.MCX, '2026-11-22T20:00')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      nextOpen: '2026-11-23T03:30:00.000Z', // MCX opens 09:00 IST
    });
  });

  it('on an exchange holiday NSE is CLOSED all day while MCX opens for its evening session', () => {
    expect(at(Exchange.NSE, '2026-11-24T10:00')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      nextOpen: '2026-11-25T03:45:00.000Z',
    });
    expect(at(Exchange.MCX, '2026-11-24T10:00')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      tradingDate: '2026-11-24',
      nextOpen: '2026-11-24T11:30:00.000Z', // 17:00 IST
    });
    expect(at(Exchange.MCX, '2026-11-24T18:00')).toMatchObject({
      status: MarketStatusKind.OPEN,
      closesAt: '2026-11-24T18:25:00.000Z', // 23:55 IST in the northern winter
    });
    // Republic Day: MCX closed morning and evening too.
    expect(at(Exchange.MCX, '2027-01-26T18:00')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      nextOpen: '2027-01-27T03:30:00.000Z',
    });
  });

  it("follows MCX's daylight-saving close: 23:40 IST is OPEN in winter, CLOSED in summer", () => {
    expect(at(Exchange.MCX, '2026-03-05T23:40')).toMatchObject({
      status: MarketStatusKind.OPEN,
      closesAt: '2026-03-05T18:25:00.000Z', // 23:55 IST
    });
    expect(at(Exchange.MCX, '2026-03-20T23:40')).toMatchObject({
      status: MarketStatusKind.CLOSED,
      nextOpen: '2026-03-23T03:30:00.000Z', // Friday night: Monday 09:00 IST
    });
    expect(at(Exchange.MCX, '2026-03-20T23:20')).toMatchObject({
      status: MarketStatusKind.OPEN,
      closesAt: '2026-03-20T18:00:00.000Z', // 23:30 IST
    });
  });
});
