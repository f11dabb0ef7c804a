import {
  ExchangeSegment,
  FEED_LIMITS,
  FeedMode,
  FeedRequestCode,
  SUBSCRIBE_CODE,
  UNSUBSCRIBE_CODE,
} from '../types';

export interface FeedInstrument {
  segment: ExchangeSegment;
  securityId: string;
}

/** The JSON body of a subscribe / unsubscribe request (DhanHQ v2: feed requests). */
export interface FeedSubscriptionRequest {
  RequestCode: number;
  InstrumentCount: number;
  InstrumentList: Array<{ ExchangeSegment: string; SecurityId: string }>;
}

/** Depth feed: at most 50 instruments per 20-level connection (DhanHQ v2: 20-level depth feed). */
export const DEPTH20_MAX_INSTRUMENTS = 50;

function chunked(
  code: number,
  instruments: readonly FeedInstrument[],
  perMessage: number,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < instruments.length; i += perMessage) {
    const batch = instruments.slice(i, i + perMessage);
    const body: FeedSubscriptionRequest = {
      RequestCode: code,
      InstrumentCount: batch.length,
      InstrumentList: batch.map((x) => ({ ExchangeSegment: x.segment, SecurityId: x.securityId })),
    };
    out.push(JSON.stringify(body));
  }
  return out;
}

/** Subscribe messages for one mode, at most 100 instruments each. */
export function encodeSubscribe(mode: FeedMode, instruments: readonly FeedInstrument[]): string[] {
  return chunked(SUBSCRIBE_CODE[mode], instruments, FEED_LIMITS.maxInstrumentsPerMessage);
}

/** Unsubscribe messages for one mode, at most 100 instruments each. */
export function encodeUnsubscribe(
  mode: FeedMode,
  instruments: readonly FeedInstrument[],
): string[] {
  return chunked(UNSUBSCRIBE_CODE[mode], instruments, FEED_LIMITS.maxInstrumentsPerMessage);
}

export function encodeDisconnect(): string {
  return JSON.stringify({ RequestCode: FeedRequestCode.DISCONNECT });
}

/** 20-level depth subscription (code 23); all 50 may go in one message. */
export function encodeDepthSubscribe(instruments: readonly FeedInstrument[]): string[] {
  return chunked(FeedRequestCode.SUBSCRIBE_DEPTH, instruments, DEPTH20_MAX_INSTRUMENTS);
}
