import fc from 'fast-check';
import { ExchangeSegment, FeedMode } from '../types';
import {
  encodeDepthSubscribe,
  encodeDisconnect,
  encodeSubscribe,
  encodeUnsubscribe,
  FeedInstrument,
  FeedSubscriptionRequest,
} from './feed-requests';

describe('feed requests (DhanHQ v2: feed requests)', () => {
  it('encodes a ticker subscription as DhanHQ documents it', () => {
    const msgs = encodeSubscribe(FeedMode.TICKER, [
      { segment: ExchangeSegment.NSE_EQ, securityId: '1333' },
      { segment: ExchangeSegment.BSE_EQ, securityId: '532540' },
    ]);
    expect(msgs).toEqual([
      '{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":"1333"},{"ExchangeSegment":"BSE_EQ","SecurityId":"532540"}]}',
    ]);
  });

  it.each([
    [FeedMode.TICKER, 15, 16],
    [FeedMode.QUOTE, 17, 18],
    [FeedMode.FULL, 21, 22],
  ])('uses the request codes of mode %s', (mode, sub, unsub) => {
    const one = [{ segment: ExchangeSegment.NSE_FNO, securityId: '1' }];
    expect((JSON.parse(encodeSubscribe(mode, one)[0]) as FeedSubscriptionRequest).RequestCode).toBe(
      sub,
    );
    expect(
      (JSON.parse(encodeUnsubscribe(mode, one)[0]) as FeedSubscriptionRequest).RequestCode,
    ).toBe(unsub);
  });

  it('encodes disconnect and depth subscribe', () => {
    expect(encodeDisconnect()).toBe('{"RequestCode":12}');
    const many = Array.from({ length: 51 }, (_, i) => ({
      segment: ExchangeSegment.NSE_EQ,
      securityId: String(i),
    }));
    const msgs = encodeDepthSubscribe(many).map((m) => JSON.parse(m) as FeedSubscriptionRequest);
    expect(msgs.map((m) => [m.RequestCode, m.InstrumentCount])).toEqual([
      [23, 50],
      [23, 1],
    ]);
  });

  it('never puts more than 100 instruments in a message and covers the input exactly once', () => {
    const inst = fc.record({
      segment: fc.constantFrom(...Object.values(ExchangeSegment)),
      securityId: fc.nat().map(String),
    });
    fc.assert(
      fc.property(
        fc.array(inst, { maxLength: 1200 }),
        fc.constantFrom(...Object.values(FeedMode)),
        (list: FeedInstrument[], mode) => {
          const msgs = encodeSubscribe(mode, list).map(
            (m) => JSON.parse(m) as FeedSubscriptionRequest,
          );
          expect(msgs).toHaveLength(Math.ceil(list.length / 100));
          const seen: FeedInstrument[] = [];
          for (const m of msgs) {
            expect(m.InstrumentList.length).toBeLessThanOrEqual(100);
            expect(m.InstrumentList.length).toBeGreaterThan(0);
            expect(m.InstrumentCount).toBe(m.InstrumentList.length);
            for (const x of m.InstrumentList)
              seen.push({
                segment: x.ExchangeSegment as ExchangeSegment,
                securityId: x.SecurityId,
              });
          }
          expect(seen).toEqual(list);
        },
      ),
      { numRuns: 200 },
    );
  });
});
