import {
  DhanRestClient,
  type ChartCandle,
  type ChartRequest,
  type FullQuote,
  type IntradayInterval,
  type MarketQuoteRequest,
  type MarketQuoteResponse,
  type OptionChain,
  type OptionChainRequest,
} from '@app/dhan';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../../dhan/dhan-endpoints';

/** Spacing of market-quote requests: DhanHQ's 1/s and 100 ms of margin. */
export const QUOTE_SPACING_MS = 1_100;

/**
 * Market data's own DhanHQ REST client (quotes, option chains, charts), apart from the order
 * gateway's so data calls never queue behind orders. Its limiter keeps DhanHQ's limits: quote
 * 1/s, data 5/s; option-chain spacing per underlying is kept by RestMarketDataService.
 */
@Injectable()
export class DhanDataClient implements OnModuleDestroy {
  private client: DhanRestClient | undefined;

  constructor(@Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints) {}

  private rest(): DhanRestClient {
    this.client ??= new DhanRestClient({
      baseUrl: this.endpoints.apiUrl,
      clientId: this.endpoints.clientId,
      token: () => this.endpoints.accessToken(),
      timeoutMs: 5_000,
      rateLimit: {
        limits: {
          // DhanHQ counts at arrival: 1 request/s plus a margin for one request's transit time.
          quote: [{ limit: 1, intervalMs: QUOTE_SPACING_MS }],
          // "One unique request every 3 s": spaced per underlying by the caller, not globally.
          optionChain: [{ limit: 100, intervalMs: 3_000 }],
        },
      },
    });
    return this.client;
  }

  /** Milliseconds until the next market-quote request may go. */
  quoteDelay(): number {
    return this.rest().limiter.delay('quote');
  }

  getQuote(req: MarketQuoteRequest): Promise<MarketQuoteResponse<FullQuote>> {
    return this.rest().getQuote(req);
  }

  getOptionChain(req: OptionChainRequest): Promise<OptionChain> {
    return this.rest().getOptionChain(req);
  }

  getHistorical(req: ChartRequest): Promise<ChartCandle[]> {
    return this.rest().getHistorical(req);
  }

  getIntraday(req: ChartRequest & { interval: IntradayInterval }): Promise<ChartCandle[]> {
    return this.rest().getIntraday(req);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.close();
  }
}
