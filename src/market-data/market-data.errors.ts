/** Codes a market-data operation can fail with; the GraphQL edge maps them to `extensions.code`. */
export enum MarketDataErrorCode {
  /** The feed is full and nothing of strictly lower priority can be evicted. */
  CAPACITY_EXCEEDED = 'CAPACITY_EXCEEDED',
  /** One subscription asked for more instruments than allowed (maps to BAD_USER_INPUT). */
  TOO_MANY_INSTRUMENTS = 'TOO_MANY_INSTRUMENTS',
  /** One connection holds too many subscriptions (maps to BAD_USER_INPUT). */
  TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS',
  /** An unknown instrument, client or subscription. */
  NOT_FOUND = 'NOT_FOUND',
  /** A malformed argument (e.g. a duplicate subscription id). */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
}

export class MarketDataError extends Error {
  constructor(
    readonly code: MarketDataErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'MarketDataError';
  }
}
