import { FeedResponseCode } from '@app/dhan/types';
import { FeedTestClient, connectFeed, fastOptions } from './__tests__/helpers';
import { DhanSimulator } from './simulator';

describe('feed server following market hours', () => {
  let sim: DhanSimulator;
  let client: FeedTestClient | undefined;
  let nseOpen = false;

  beforeEach(async () => {
    nseOpen = false;
    sim = new DhanSimulator(
      fastOptions({
        feed: {
          // MCX trading, NSE closed (a holiday evening), until the test opens it.
          marketHours: (segment) => (segment === 'MCX_COMM' || nseOpen ? 'OPEN' : 'CLOSED'),
        },
      }),
    );
  });

  afterEach(async () => {
    await client?.close();
    await sim.stop();
  });

  it('sends no ticks for a closed segment (prev close only) and ticks again once it opens', async () => {
    const urls = await sim.start();
    client = await connectFeed(sim, urls);
    const mcx = sim.universe.instruments.find((i) => i.segment === 'MCX_COMM')!;
    client.subscribe(15, [
      ['NSE_EQ', 2885],
      ['MCX_COMM', mcx.securityId],
    ]);
    const tickers = (segment: number) =>
      client!.packets.filter((p) => p.code === FeedResponseCode.TICKER && p.segment === segment);
    await client.until(() => tickers(5).length >= 20, '20 MCX tickers');
    expect(tickers(1)).toHaveLength(0);
    // Subscribing still answers the previous close, as DhanHQ does outside market hours.
    expect(
      client.packets.some((p) => p.code === FeedResponseCode.PREV_CLOSE && p.segment === 1),
    ).toBe(true);

    nseOpen = true;
    await client.until(() => tickers(1).length >= 5, 'NSE tickers after the open');
  });
});
