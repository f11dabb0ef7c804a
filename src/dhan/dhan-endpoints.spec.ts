import { isDhanHqUrl, marketDataSource } from './dhan-endpoints';

describe('marketDataSource (start-up banner)', () => {
  const dhan = { apiUrl: 'https://api.dhan.co/v2', feedUrl: 'wss://api-feed.dhan.co' };

  it('is the built-in simulator without credentials', () => {
    expect(marketDataSource({ ...dhan, live: false })).toEqual({ source: 'built-in simulator' });
  });

  it('is DhanHQ only when the connections go to DhanHQ hosts', () => {
    expect(marketDataSource({ ...dhan, live: true })).toEqual({ source: 'DhanHQ' });
    expect(
      marketDataSource({
        live: true,
        apiUrl: 'http://127.0.0.1:7101/v2',
        feedUrl: 'ws://127.0.0.1:7102',
      }),
    ).toEqual({ source: 'external stand-in', host: '127.0.0.1:7102' });
    expect(
      marketDataSource({ live: true, apiUrl: dhan.apiUrl, feedUrl: 'wss://feed.example.test' }),
    ).toEqual({ source: 'external stand-in', host: 'feed.example.test' });
  });

  it('matches DhanHQ hosts exactly, not look-alikes', () => {
    expect(isDhanHqUrl('https://images.dhan.co/x.csv')).toBe(true);
    expect(isDhanHqUrl('https://api.dhan.co.example.test/v2')).toBe(false);
    expect(isDhanHqUrl('https://notdhan.co/v2')).toBe(false);
    expect(isDhanHqUrl('not a url')).toBe(false);
  });
});
