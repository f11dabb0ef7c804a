import { Component, render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError } from './api';
import {
  fmtIstWhen,
  fmtPercent,
  fmtPrice,
  fmtQty,
  fmtSigned,
  fmtTime,
  reasonText,
  signClass,
} from './format';
import { Login } from './login';
import {
  INSTRUMENT_FIELDS,
  ORDER_FIELDS,
  POSITION_FIELDS,
  QUOTE_FIELDS,
  WORKING,
  type FeedHealth,
  type MarketStatus,
  type Funds,
  type Instrument,
  type Order,
  type Position,
  type Quote,
} from './model';
import { keyOf, TickStore, useTickFrame, useTicks, type TickView } from './ticks';
import './styles.css';

const errorText = (error: unknown): string =>
  error instanceof ApiError ? error.display : String(error);

/** The live price of one instrument: lit green or red for a moment on every change, dim when stale. */
function Ltp({ tick, fallback }: { tick: TickView | undefined; fallback?: Quote | null }) {
  const ltp = tick?.ltp ?? fallback?.ltp ?? null;
  const stale = tick?.stale ?? fallback?.stale ?? false;
  const flash = tick?.flash ? ` flash-${tick.flash}` : '';
  return (
    <span class={`ltp${flash}${stale ? ' stale' : ''}`} data-testid="ltp">
      {fmtPrice(ltp)}
    </span>
  );
}

// ---------------------------------------------------------------------------------------------
// Header: who, feed health, funds

const FEED_HEALTH =
  'subscription { feedHealth { connected connections staleInstruments lastTickTime } }';

const MARKET_STATUS = `subscription S($exchange: Exchange!) {
  marketStatus(exchange: $exchange) { exchange status closesAt nextOpen }
}`;
const EXCHANGES = ['NSE', 'BSE', 'MCX'] as const;

/** Each exchange's session from the market calendar: open until, or closed until the next open. */
function MarketStatusBadges({ api }: { api: Api }) {
  const [status, setStatus] = useState<Record<string, MarketStatus>>({});
  useEffect(() => {
    const stops = EXCHANGES.map((exchange) =>
      api.subscribe<{ marketStatus: MarketStatus }>(
        '/graphql',
        MARKET_STATUS,
        { exchange },
        {
          next: (data) => setStatus((s) => ({ ...s, [exchange]: data.marketStatus })),
          error: () => undefined,
        },
      ),
    );
    return () => stops.forEach((stop) => stop());
  }, [api]);
  return (
    <>
      {EXCHANGES.map((exchange) => {
        const s = status[exchange];
        if (!s) return null;
        const open = s.status !== 'CLOSED';
        const label = s.status === 'PRE_OPEN' ? 'pre-open' : open ? 'open' : 'closed';
        const until = open ? `until ${fmtIstWhen(s.closesAt)}` : `opens ${fmtIstWhen(s.nextOpen)}`;
        return (
          <span
            key={exchange}
            class={`badge ${open ? 'good' : ''}`}
            data-testid={`market-${exchange}`}
            title={`${exchange} ${label} ${until} (IST)`}
          >
            {exchange} {label} · {until}
          </span>
        );
      })}
    </>
  );
}

function FeedHealthBadge({ api }: { api: Api }) {
  const [health, setHealth] = useState<FeedHealth | null>(null);
  const [error, setError] = useState('');
  useEffect(
    () =>
      api.subscribe<{ feedHealth: FeedHealth }>(
        '/graphql',
        FEED_HEALTH,
        {},
        {
          next: (data) => {
            setHealth(data.feedHealth);
            setError('');
          },
          error: (e) => setError(e.display),
        },
      ),
    [api],
  );
  if (error)
    return (
      <span class="badge bad" title={error}>
        Feed: {error}
      </span>
    );
  if (!health) return <span class="badge">Feed: …</span>;
  return (
    <span
      class={`badge ${health.connected ? 'good' : 'bad'}`}
      data-testid="feed-health"
      title={`Last tick ${fmtTime(health.lastTickTime)}`}
    >
      Feed {health.connected ? 'live' : 'DOWN'} · {health.connections} conn ·{' '}
      {health.staleInstruments} stale · {fmtTime(health.lastTickTime)}
    </span>
  );
}

function FundsPanel({ api, version }: { api: Api; version: number }) {
  const [funds, setFunds] = useState<Funds | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    api
      .request<{ funds: Funds }>('/graphql', 'query { funds { available balance reserved used } }')
      .then((data) => live && setFunds(data.funds))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [api, version]);
  return (
    <section class="panel funds" aria-label="Funds">
      <h2>Funds</h2>
      {error && <p class="error">{error}</p>}
      {funds && (
        <dl>
          <dt>Available</dt>
          <dd data-testid="funds-available">{fmtPrice(funds.available)}</dd>
          <dt>Used</dt>
          <dd>{fmtPrice(funds.used)}</dd>
          <dt>Reserved</dt>
          <dd>{fmtPrice(funds.reserved)}</dd>
          <dt>Balance</dt>
          <dd>{fmtPrice(funds.balance)}</dd>
        </dl>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Price chart: 5-minute candles of the ticket's instrument (history, then the forming bar live)

interface Candle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  complete: boolean;
}
const CANDLE_FIELDS = 'time open high low close complete';
const CANDLES = `query Candles($instrument: InstrumentInput!, $from: DateTime!, $to: DateTime!) {
  candles(instrument: $instrument, interval: M5, from: $from, to: $to) { ${CANDLE_FIELDS} }
}`;
const CANDLE_UPDATES = `subscription Bar($instrument: InstrumentInput!) {
  candleUpdates(instrument: $instrument, interval: M5) { ${CANDLE_FIELDS} }
}`;
const CHART_BARS = 60;

/** Replaces the bar with the same time or appends a new one (bars arrive oldest first). */
function mergeCandle(bars: Candle[], bar: Candle): Candle[] {
  const last = bars[bars.length - 1];
  if (last && last.time === bar.time) return [...bars.slice(0, -1), bar];
  if (last && last.time > bar.time) return bars;
  return [...bars, bar].slice(-CHART_BARS);
}

function PriceChart({ api, instrument }: { api: Api; instrument: Instrument | null }) {
  const [bars, setBars] = useState<Candle[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    setBars([]);
    setError('');
    if (!instrument) return undefined;
    const ref = { segment: instrument.segment, securityId: instrument.securityId };
    let live = true;
    const to = new Date(Date.now() + 60_000);
    const from = new Date(to.getTime() - 4 * 86_400_000);
    api
      .request<{ candles: Candle[] }>('/graphql', CANDLES, {
        instrument: ref,
        from: from.toISOString(),
        to: to.toISOString(),
      })
      .then((data) => {
        if (live)
          setBars((current) => current.reduce(mergeCandle, data.candles.slice(-CHART_BARS)));
      })
      .catch((e: unknown) => live && setError(errorText(e)));
    const stop = api.subscribe<{ candleUpdates: Candle }>(
      '/graphql',
      CANDLE_UPDATES,
      { instrument: ref },
      {
        next: (data) => setBars((current) => mergeCandle(current, data.candleUpdates)),
        error: (e) => setError(e.display),
      },
    );
    return () => {
      live = false;
      stop();
    };
  }, [api, instrument]);

  const width = 360;
  const height = 150;
  const high = Math.max(...bars.map((b) => b.high));
  const low = Math.min(...bars.map((b) => b.low));
  const span = high - low || 1;
  const y = (price: number) => 4 + ((high - price) / span) * (height - 8);
  const step = width / CHART_BARS;
  const last = bars[bars.length - 1];
  return (
    <section class="panel chart" aria-label="Price chart">
      <header>
        <h2>Chart</h2>
        <span class="dim">
          {instrument ? `${instrument.symbol} · 5 min` : 'Pick an instrument to trade'}
        </span>
      </header>
      {error && <p class="error">{error}</p>}
      {bars.length > 0 && (
        <svg
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label={`${instrument?.symbol ?? ''} 5-minute candles`}
          data-testid="chart"
          data-bars={bars.length}
          data-last-close={last?.close}
        >
          {bars.map((b, i) => {
            const x = i * step + step / 2;
            const up = b.close >= b.open;
            const top = y(Math.max(b.open, b.close));
            return (
              <g key={b.time} class={up ? 'up' : 'down'} data-testid="candle">
                <line x1={x} x2={x} y1={y(b.high)} y2={y(b.low)} />
                <rect
                  x={x - step * 0.35}
                  y={top}
                  width={step * 0.7}
                  height={Math.max(1, y(Math.min(b.open, b.close)) - top)}
                />
              </g>
            );
          })}
          {last && <line class="last" x1={0} x2={width} y1={y(last.close)} y2={y(last.close)} />}
        </svg>
      )}
      {last && (
        <p class="meta">
          H {fmtPrice(high)} · L {fmtPrice(low)} · last {fmtPrice(last.close)}
        </p>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Search

const SEARCH = `query Search($search: String!) { instruments(search: $search, limit: 12) { ${INSTRUMENT_FIELDS} } }`;

const chainNameOf = (instrument: Instrument): string | null =>
  instrument.underlying ??
  (instrument.instrumentType === 'INDEX' || instrument.instrumentType === 'EQUITY'
    ? instrument.symbol
    : null);

interface Actions {
  watch(instrument: Instrument): void;
  trade(instrument: Instrument): void;
  chain(underlying: string): void;
}

function Search({ api, actions }: { api: Api; actions: Actions }) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<Instrument[]>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState('');
  const asked = useRef(0);

  useEffect(() => {
    const search = text.trim();
    if (!search) {
      setResults([]);
      return undefined;
    }
    const timer = window.setTimeout(() => {
      const mine = ++asked.current;
      api
        .request<{ instruments: Instrument[] }>('/graphql', SEARCH, { search })
        .then((data) => {
          if (mine !== asked.current) return;
          setResults(data.instruments);
          setActive(0);
          setError('');
        })
        .catch((e: unknown) => mine === asked.current && setError(errorText(e)));
    }, 150);
    return () => window.clearTimeout(timer);
  }, [api, text]);

  const onKey = (event: KeyboardEvent) => {
    const current = results[active];
    if (event.key === 'ArrowDown') setActive((i) => Math.min(i + 1, results.length - 1));
    else if (event.key === 'ArrowUp') setActive((i) => Math.max(i - 1, 0));
    else if (event.key === 'Enter' && current) actions.watch(current);
    else if (event.key === 't' && event.altKey && current) actions.trade(current);
    else if (event.key === 'Escape') setText('');
    else return;
    event.preventDefault();
  };

  return (
    <section class="panel search" aria-label="Instrument search">
      <h2>Search</h2>
      <input
        id="search"
        type="search"
        placeholder="Symbol or name, e.g. NIFTY, RELIANCE  ( / )"
        aria-label="Search instruments"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={onKey}
      />
      {error && <p class="error">{error}</p>}
      <ul class="results" role="listbox" aria-label="Search results">
        {results.map((instrument, i) => {
          const chain = chainNameOf(instrument);
          return (
            <li
              key={keyOf(instrument)}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'active' : ''}
              data-testid="search-result"
              data-symbol={instrument.symbol}
              data-segment={instrument.segment}
            >
              <span class="sym">
                {instrument.symbol}
                <small>
                  {instrument.segment} · {instrument.instrumentType} · lot {instrument.lotSize}
                </small>
              </span>
              <span class="actions">
                <button type="button" onClick={() => actions.watch(instrument)}>
                  + Watch
                </button>
                {instrument.instrumentType !== 'INDEX' && (
                  <button type="button" onClick={() => actions.trade(instrument)}>
                    Trade
                  </button>
                )}
                {chain && (
                  <button type="button" onClick={() => actions.chain(chain)}>
                    Chain
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Watchlists

interface Watchlist {
  id: string;
  name: string;
  items: { instrument: Instrument; quote: Quote | null }[];
}

const WATCHLIST_FIELDS = `id name items { instrument { ${INSTRUMENT_FIELDS} } quote { ${QUOTE_FIELDS} } }`;
const WATCHLISTS = `query { watchlists { ${WATCHLIST_FIELDS} } }`;
const CREATE_WATCHLIST = `mutation C($name: String!) { createWatchlist(name: $name) { ${WATCHLIST_FIELDS} } }`;
const ADD_ITEM = `mutation A($id: ID!, $instrument: InstrumentInput!) {
  addWatchlistItem(watchlistId: $id, instrument: $instrument) { ${WATCHLIST_FIELDS} } }`;
const REMOVE_ITEM = `mutation R($id: ID!, $instrument: InstrumentInput!) {
  removeWatchlistItem(watchlistId: $id, instrument: $instrument) { ${WATCHLIST_FIELDS} } }`;

const ref = (instrument: Instrument) => ({
  segment: instrument.segment,
  securityId: instrument.securityId,
});

function useWatchlists(api: Api) {
  const [lists, setLists] = useState<Watchlist[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [error, setError] = useState('');

  const replace = useCallback((list: Watchlist) => {
    setLists((all) =>
      all.some((l) => l.id === list.id)
        ? all.map((l) => (l.id === list.id ? list : l))
        : [...all, list],
    );
    setActiveId(list.id);
    setError('');
  }, []);

  useEffect(() => {
    let live = true;
    (async () => {
      const data = await api.request<{ watchlists: Watchlist[] }>('/graphql', WATCHLISTS);
      if (!live) return;
      if (data.watchlists.length > 0) {
        setLists(data.watchlists);
        setActiveId(data.watchlists[0].id);
      } else {
        const created = await api.request<{ createWatchlist: Watchlist }>(
          '/graphql',
          CREATE_WATCHLIST,
          {
            name: 'Watchlist 1',
          },
        );
        if (live) replace(created.createWatchlist);
      }
    })().catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [api, replace]);

  const run = (query: string, variables: Record<string, unknown>, field: string) =>
    api
      .request<Record<string, Watchlist>>('/graphql', query, variables)
      .then((data) => replace(data[field]))
      .catch((e: unknown) => setError(errorText(e)));

  return {
    lists,
    active: lists.find((l) => l.id === activeId) ?? null,
    setActiveId,
    error,
    add: (instrument: Instrument) =>
      activeId && run(ADD_ITEM, { id: activeId, instrument: ref(instrument) }, 'addWatchlistItem'),
    remove: (instrument: Instrument) =>
      activeId &&
      run(REMOVE_ITEM, { id: activeId, instrument: ref(instrument) }, 'removeWatchlistItem'),
    create: (name: string) => run(CREATE_WATCHLIST, { name }, 'createWatchlist'),
  };
}

type Watchlists = ReturnType<typeof useWatchlists>;

interface WatchRowProps {
  instrument: Instrument;
  quote: Quote | null;
  tick: TickView | undefined;
  actions: Actions;
  remove(instrument: Instrument): void;
}

/**
 * One watchlist row. It renders again only when its own tick (a new object per change) or
 * instrument changed: a frame with a few changed prices among hundreds of rows costs a few rows.
 * Handlers read the props at click time, so they are never stale.
 */
class WatchRow extends Component<WatchRowProps> {
  override shouldComponentUpdate(next: WatchRowProps): boolean {
    return (
      next.tick !== this.props.tick ||
      next.quote !== this.props.quote ||
      next.instrument !== this.props.instrument
    );
  }

  override render({ instrument, quote, tick }: WatchRowProps) {
    const change = tick?.change ?? quote?.change ?? null;
    const stale = tick?.stale ?? quote?.stale ?? false;
    const chain = chainNameOf(instrument);
    return (
      <tr class={stale ? 'stale' : ''} data-testid="watch-row" data-symbol={instrument.symbol}>
        <td class="sym" title={instrument.displayName}>
          {instrument.symbol}
          {stale && <span class="badge bad">stale</span>}
        </td>
        <td class="num">
          <Ltp tick={tick} fallback={quote} />
        </td>
        <td class={`num ${signClass(change)}`}>{fmtSigned(change)}</td>
        <td class={`num ${signClass(change)}`}>
          {fmtPercent(tick?.changePercent ?? quote?.changePercent)}
        </td>
        <td class="actions">
          {instrument.instrumentType !== 'INDEX' && (
            <button type="button" onClick={() => this.props.actions.trade(this.props.instrument)}>
              Trade
            </button>
          )}
          {chain && (
            <button type="button" onClick={() => this.props.actions.chain(chain)}>
              Chain
            </button>
          )}
          <button
            type="button"
            aria-label={`Remove ${instrument.symbol}`}
            onClick={() => this.props.remove(this.props.instrument)}
          >
            ×
          </button>
        </td>
      </tr>
    );
  }
}

function WatchlistPanel({
  api,
  store,
  watchlists,
  actions,
}: {
  api: Api;
  store: TickStore;
  watchlists: Watchlists;
  actions: Actions;
}) {
  const [tickError, setTickError] = useState('');
  const items = watchlists.active?.items ?? [];
  const instruments = useMemo(() => items.map((item) => item.instrument), [items]);
  useTicks(api, store, instruments, setTickError);
  useTickFrame(store);

  const newList = () => {
    const name = window.prompt('Name of the new watchlist');
    if (name?.trim()) void watchlists.create(name.trim());
  };

  return (
    <section class="panel watchlist" aria-label="Watchlist">
      <header>
        <h2>Watchlist</h2>
        <nav class="tabs">
          {watchlists.lists.map((list) => (
            <button
              type="button"
              key={list.id}
              class={list.id === watchlists.active?.id ? 'tab active' : 'tab'}
              onClick={() => watchlists.setActiveId(list.id)}
            >
              {list.name}
            </button>
          ))}
          <button type="button" class="tab" onClick={newList} title="New watchlist">
            +
          </button>
        </nav>
      </header>
      {(watchlists.error || tickError) && <p class="error">{watchlists.error || tickError}</p>}
      <table>
        <thead>
          <tr>
            <th>Instrument</th>
            <th class="num">LTP</th>
            <th class="num">Chg</th>
            <th class="num">%</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.length === 0 && (
            <tr>
              <td colSpan={5} class="empty">
                Empty: search an instrument and press Enter (or + Watch).
              </td>
            </tr>
          )}
          {items.map(({ instrument, quote }) => (
            <WatchRow
              key={keyOf(instrument)}
              instrument={instrument}
              quote={quote}
              tick={store.get(instrument)}
              actions={actions}
              remove={watchlists.remove}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Option chain

interface ChainAnalytics {
  iv: number | null;
  delta: number | null;
  status: string;
}
interface ChainContract {
  instrument: Instrument;
  quote: Quote | null;
  analytics: ChainAnalytics | null;
}
interface ChainRow {
  strike: number;
  call: ChainContract | null;
  put: ChainContract | null;
}
interface OptionChain {
  underlying: string;
  expiry: string;
  spot: number | null;
  atmStrike: number | null;
  atmIv: number | null;
  pcrOi: number | null;
  strikes: ChainRow[];
}
interface ChainUpdate extends OptionChain {
  snapshot: boolean;
}

const EXPIRIES = 'query E($underlying: String!) { expiries(underlying: $underlying) }';
const CONTRACT = `instrument { ${INSTRUMENT_FIELDS} } quote { ${QUOTE_FIELDS} } analytics { iv delta status }`;
/** The chain with its analytics, then the strikes that changed (IV and greeks move with prices). */
const CHAIN_UPDATES = `subscription Chain($underlying: String!, $expiry: Date, $strikes: Int) {
  optionChainUpdates(underlying: $underlying, expiry: $expiry, strikes: $strikes) {
    snapshot underlying expiry spot atmStrike atmIv pcrOi
    strikes { strike call { ${CONTRACT} } put { ${CONTRACT} } }
  }
}`;

/** A snapshot replaces the chain; an update replaces the strikes it carries and the figures. */
function applyChainUpdate(chain: OptionChain | null, update: ChainUpdate): OptionChain {
  if (update.snapshot || chain === null) return update;
  const changed = new Map(update.strikes.map((row) => [row.strike, row]));
  return {
    ...update,
    strikes: chain.strikes.map((row) => changed.get(row.strike) ?? row),
  };
}

/** IV comes in percent (annualised). */
const fmtIv = (iv: number | null | undefined): string =>
  iv === null || iv === undefined ? '-' : iv.toFixed(1);
const fmtDelta = (delta: number | null | undefined): string =>
  delta === null || delta === undefined ? '-' : delta.toFixed(2);

function ChainSide({
  side,
  contract,
  store,
  onTrade,
}: {
  side: 'call' | 'put';
  contract: ChainContract | null;
  store: TickStore;
  onTrade(instrument: Instrument): void;
}) {
  if (!contract) return <td colSpan={4} />;
  const tick = store.get(contract.instrument);
  const change = tick?.change ?? contract.quote?.change ?? null;
  const a = contract.analytics;
  const why = a && a.iv === null ? a.status : undefined;
  const figures = [
    <td key="iv" class="num dim" data-testid="iv" title={why}>
      {fmtIv(a?.iv)}
    </td>,
    <td key="delta" class="num dim" data-testid="delta">
      {fmtDelta(a?.delta)}
    </td>,
  ];
  return (
    <>
      {side === 'call' && figures}
      <td class="num dim">{fmtQty(tick?.oi ?? contract.quote?.oi)}</td>
      <td class="num">
        <button
          type="button"
          class="link"
          title={`Trade ${contract.instrument.symbol} (change ${fmtSigned(change)})`}
          onClick={() => onTrade(contract.instrument)}
        >
          <Ltp tick={tick} fallback={contract.quote} />
        </button>
      </td>
      {side === 'put' && [...figures].reverse()}
    </>
  );
}

function OptionChainPanel({
  api,
  store,
  underlying,
  setUnderlying,
  onTrade,
}: {
  api: Api;
  store: TickStore;
  underlying: string;
  setUnderlying(name: string): void;
  onTrade(instrument: Instrument): void;
}) {
  const [input, setInput] = useState(underlying);
  const [expiries, setExpiries] = useState<string[]>([]);
  const [expiry, setExpiry] = useState('');
  const [width, setWidth] = useState(8);
  const [chain, setChain] = useState<OptionChain | null>(null);
  const [error, setError] = useState('');

  useEffect(() => setInput(underlying), [underlying]);
  useEffect(() => {
    let live = true;
    setExpiry('');
    setChain(null);
    api
      .request<{ expiries: string[] }>('/graphql', EXPIRIES, { underlying })
      .then((data) => live && setExpiries(data.expiries))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [api, underlying]);
  useEffect(() => {
    setChain(null);
    return api.subscribe<{ optionChainUpdates: ChainUpdate }>(
      '/graphql',
      CHAIN_UPDATES,
      { underlying, expiry: expiry || null, strikes: width },
      {
        next: (data) => {
          setChain((current) => applyChainUpdate(current, data.optionChainUpdates));
          setError('');
        },
        error: (e) => setError(e.display),
      },
    );
  }, [api, underlying, expiry, width]);

  const rows = useMemo(() => {
    if (!chain || chain.strikes.length === 0) return [];
    const target = chain.atmStrike ?? chain.spot ?? chain.strikes[0].strike;
    let atm = 0;
    chain.strikes.forEach((s, i) => {
      if (Math.abs(s.strike - target) < Math.abs(chain.strikes[atm].strike - target)) atm = i;
    });
    return chain.strikes.slice(Math.max(0, atm - width), atm + width + 1);
  }, [chain, width]);
  const visible = useMemo(
    () =>
      rows.flatMap((row) =>
        [row.call?.instrument, row.put?.instrument].filter((i): i is Instrument => !!i),
      ),
    [rows],
  );
  useTicks(api, store, visible, setError);
  useTickFrame(store);

  const spot = chain?.spot ?? null;
  return (
    <section class="panel chain" aria-label="Option chain">
      <header>
        <h2>Option chain</h2>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (input.trim()) setUnderlying(input.trim().toUpperCase());
          }}
        >
          <input
            aria-label="Underlying"
            value={input}
            size={12}
            onInput={(e) => setInput(e.currentTarget.value)}
          />
          <select
            aria-label="Expiry"
            value={expiry}
            onChange={(e) => setExpiry(e.currentTarget.value)}
          >
            <option value="">Nearest expiry</option>
            {expiries.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
          <select
            aria-label="Strikes around ATM"
            value={String(width)}
            onChange={(e) => setWidth(Number(e.currentTarget.value))}
          >
            {[4, 8, 12, 20].map((n) => (
              <option key={n} value={String(n)}>
                ±{n} strikes
              </option>
            ))}
          </select>
        </form>
      </header>
      {error && <p class="error">{error}</p>}
      {chain && (
        <p class="meta" data-testid="chain-meta">
          {chain.underlying} · expiry {chain.expiry} · spot {fmtPrice(spot)} · ATM{' '}
          {fmtPrice(chain.atmStrike)} · ATM IV {fmtIv(chain.atmIv)} · PCR{' '}
          {chain.pcrOi === null ? '-' : chain.pcrOi.toFixed(2)}
        </p>
      )}
      <table data-testid="option-chain">
        <thead>
          <tr>
            <th class="num" title="Implied volatility, %">
              IV
            </th>
            <th class="num">Δ</th>
            <th class="num">OI</th>
            <th class="num">CALL</th>
            <th class="strike">Strike</th>
            <th class="num">PUT</th>
            <th class="num">OI</th>
            <th class="num">Δ</th>
            <th class="num" title="Implied volatility, %">
              IV
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const atm = row.strike === chain?.atmStrike;
            return (
              <tr
                key={row.strike}
                class={atm ? 'atm' : ''}
                data-testid={atm ? 'chain-atm' : 'chain-row'}
                data-strike={row.strike}
              >
                <ChainSide side="call" contract={row.call} store={store} onTrade={onTrade} />
                <td
                  class={`strike ${spot !== null && row.strike < spot ? 'itm-call' : ''} ${
                    spot !== null && row.strike > spot ? 'itm-put' : ''
                  }`}
                >
                  {fmtPrice(row.strike)}
                </td>
                <ChainSide side="put" contract={row.put} store={store} onTrade={onTrade} />
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Order ticket

const PLACE = `mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`;
const ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_MARKET'] as const;

function roundToTick(value: number, tick: number): number {
  const units = Math.round(value / tick);
  return Number((units * tick).toFixed(4));
}

function OrderTicket({
  api,
  store,
  instrument,
  side,
  setSide,
  onPlaced,
}: {
  api: Api;
  store: TickStore;
  instrument: Instrument | null;
  side: 'BUY' | 'SELL';
  setSide(side: 'BUY' | 'SELL'): void;
  onPlaced(): void;
}) {
  const [lots, setLots] = useState('1');
  const [orderType, setOrderType] = useState<(typeof ORDER_TYPES)[number]>('LIMIT');
  const [price, setPrice] = useState('');
  const [trigger, setTrigger] = useState('');
  const [product, setProduct] = useState('INTRADAY');
  const [validity, setValidity] = useState('DAY');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const prefilled = useRef('');

  const instruments = useMemo(() => (instrument ? [instrument] : []), [instrument]);
  useTicks(api, store, instruments);
  useTickFrame(store);
  const tick = instrument ? store.get(instrument) : undefined;
  const key = instrument ? keyOf(instrument) : '';

  useEffect(() => {
    setMessage(null);
    setPrice('');
    setTrigger('');
    prefilled.current = '';
  }, [key]);
  // The price starts at the LTP, on the tick, once one is known.
  useEffect(() => {
    if (instrument && tick?.ltp != null && prefilled.current !== key) {
      prefilled.current = key;
      setPrice(String(roundToTick(tick.ltp, instrument.tickSize)));
    }
  }, [instrument, key, tick?.ltp]);

  if (!instrument) {
    return (
      <section class="panel ticket" aria-label="Order ticket">
        <h2>Order ticket</h2>
        <p class="empty">
          Pick an instrument: Trade in search or the watchlist, or a price in the chain.
        </p>
      </section>
    );
  }

  const lotCount = Number(lots);
  const quantity =
    Number.isInteger(lotCount) && lotCount > 0 ? lotCount * instrument.lotSize : null;
  const needsPrice = orderType === 'LIMIT' || orderType === 'STOP_LOSS';
  const needsTrigger = orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET';

  const submit = async (event: Event) => {
    event.preventDefault();
    if (quantity === null) {
      setMessage({ kind: 'error', text: 'Lots must be a whole number of at least 1' });
      return;
    }
    if (needsPrice && !(Number(price) > 0)) {
      setMessage({ kind: 'error', text: 'Enter a price' });
      return;
    }
    if (needsTrigger && !(Number(trigger) > 0)) {
      setMessage({ kind: 'error', text: 'Enter a trigger price' });
      return;
    }
    setBusy(true);
    setMessage(null);
    const input = {
      clientOrderId: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      instrument: ref(instrument),
      side,
      quantity,
      orderType,
      productType: product,
      validity,
      ...(needsPrice ? { price: Number(price) } : {}),
      ...(needsTrigger ? { triggerPrice: Number(trigger) } : {}),
    };
    try {
      const { placeOrder: order } = await api.request<{ placeOrder: Order }>('/graphql', PLACE, {
        input,
      });
      if (order.status === 'REJECTED') {
        setMessage({ kind: 'error', text: `Rejected: ${reasonText(order.rejectionReason)}` });
      } else {
        setMessage({
          kind: 'ok',
          text: `${order.side} ${order.quantity} ${order.instrument.symbol} ${order.orderType}${
            order.price ? ` @ ${fmtPrice(order.price)}` : ''
          }: ${order.status}`,
        });
      }
      onPlaced();
    } catch (e) {
      const reason = e instanceof ApiError ? e.extensions.rejectionReason : undefined;
      setMessage({
        kind: 'error',
        text: typeof reason === 'string' ? `${errorText(e)}: ${reasonText(reason)}` : errorText(e),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class={`panel ticket ${side === 'BUY' ? 'buy' : 'sell'}`} aria-label="Order ticket">
      <h2>Order ticket</h2>
      <p
        class="ticket-instrument"
        data-testid="ticket-instrument"
        data-symbol={instrument.symbol}
        data-tick-size={instrument.tickSize}
      >
        <strong>{instrument.symbol}</strong> <small>{instrument.displayName}</small>
        <br />
        LTP <Ltp tick={tick} /> · lot {instrument.lotSize} · tick {instrument.tickSize}
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <div class="side" role="radiogroup" aria-label="Side">
          {(['BUY', 'SELL'] as const).map((s) => (
            <button
              type="button"
              key={s}
              role="radio"
              aria-checked={side === s}
              class={side === s ? `on ${s.toLowerCase()}` : ''}
              onClick={() => setSide(s)}
            >
              {s}
            </button>
          ))}
        </div>
        <label>
          Lots
          <input
            name="lots"
            type="number"
            min="1"
            step="1"
            value={lots}
            onInput={(e) => setLots(e.currentTarget.value)}
          />
          <small data-testid="ticket-quantity">
            {quantity === null ? '-' : `${fmtQty(quantity)} ${quantity === 1 ? 'unit' : 'units'}`}
          </small>
        </label>
        <label>
          Type
          <select
            name="orderType"
            value={orderType}
            onChange={(e) => setOrderType(e.currentTarget.value as typeof orderType)}
          >
            {ORDER_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {needsPrice && (
          <label>
            Price
            <input
              name="price"
              type="number"
              step={String(instrument.tickSize)}
              min="0"
              value={price}
              onInput={(e) => setPrice(e.currentTarget.value)}
            />
          </label>
        )}
        {needsTrigger && (
          <label>
            Trigger
            <input
              name="trigger"
              type="number"
              step={String(instrument.tickSize)}
              min="0"
              value={trigger}
              onInput={(e) => setTrigger(e.currentTarget.value)}
            />
          </label>
        )}
        <label>
          Product
          <select
            name="product"
            value={product}
            onChange={(e) => setProduct(e.currentTarget.value)}
          >
            <option value="INTRADAY">INTRADAY</option>
            <option value="CNC">CNC (delivery)</option>
            <option value="MARGIN">MARGIN (carry F&amp;O)</option>
          </select>
        </label>
        <label>
          Validity
          <select
            name="validity"
            value={validity}
            onChange={(e) => setValidity(e.currentTarget.value)}
          >
            <option value="DAY">DAY</option>
            <option value="IOC">IOC</option>
          </select>
        </label>
        <button type="submit" class={`place ${side.toLowerCase()}`} disabled={busy}>
          {busy ? 'Sending…' : `${side} ${quantity === null ? '' : fmtQty(quantity)}`}
        </button>
      </form>
      {message && (
        <p
          class={message.kind === 'ok' ? 'ok' : 'error'}
          role="status"
          data-testid="ticket-message"
        >
          {message.text}
        </p>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Orders and positions

const ORDERS = `query { orders { ${ORDER_FIELDS} } }`;
const ORDER_UPDATES = `subscription { orderUpdates { ${ORDER_FIELDS} } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`;

const newer = (a: Order | undefined, b: Order): boolean => !a || a.updatedAt <= b.updatedAt;

function OrdersPanel({ api, onChange }: { api: Api; onChange(): void }) {
  const [orders, setOrders] = useState<Map<string, Order>>(new Map());
  const [error, setError] = useState('');
  const upsert = useCallback((list: Order[]) => {
    setOrders((current) => {
      const next = new Map(current);
      for (const order of list) if (newer(next.get(order.id), order)) next.set(order.id, order);
      return next;
    });
  }, []);

  useEffect(() => {
    // Updates first, then the book: nothing that changes in between is missed.
    const stop = api.subscribe<{ orderUpdates: Order }>(
      '/graphql',
      ORDER_UPDATES,
      {},
      {
        next: (data) => {
          upsert([data.orderUpdates]);
          onChange();
        },
        error: (e) => setError(e.display),
      },
    );
    api
      .request<{ orders: Order[] }>('/graphql', ORDERS)
      .then((data) => upsert(data.orders))
      .catch((e: unknown) => setError(errorText(e)));
    return stop;
  }, [api, upsert, onChange]);

  const cancel = (order: Order) => {
    api
      .request<{ cancelOrder: Order }>('/graphql', CANCEL, { id: order.id })
      .then((data) => {
        upsert([data.cancelOrder]);
        setError('');
      })
      .catch((e: unknown) => setError(`Cancel ${order.instrument.symbol}: ${errorText(e)}`));
  };

  const list = [...orders.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  return (
    <section class="panel orders" aria-label="Orders">
      <h2>Orders</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table data-testid="orders">
        <thead>
          <tr>
            <th>Time</th>
            <th>Instrument</th>
            <th>Side</th>
            <th class="num">Filled/Qty</th>
            <th>Type</th>
            <th class="num">Price</th>
            <th class="num">Avg</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.length === 0 && (
            <tr>
              <td colSpan={9} class="empty">
                No orders today.
              </td>
            </tr>
          )}
          {list.map((order) => (
            <tr
              key={order.id}
              data-testid="order-row"
              data-order-id={order.id}
              data-status={order.status}
            >
              <td>{fmtTime(order.createdAt)}</td>
              <td class="sym">{order.instrument.symbol}</td>
              <td class={order.side === 'BUY' ? 'up' : 'down'}>{order.side}</td>
              <td class="num">
                {fmtQty(order.filledQuantity)}/{fmtQty(order.quantity)}
              </td>
              <td>
                {order.orderType} {order.productType}
              </td>
              <td class="num">{fmtPrice(order.price)}</td>
              <td class="num">{fmtPrice(order.averagePrice)}</td>
              <td class={`status ${order.status}`} title={reasonText(order.rejectionReason)}>
                {order.status}
                {order.rejectionReason && <small> {reasonText(order.rejectionReason)}</small>}
              </td>
              <td>
                {WORKING.has(order.status) && (
                  <button
                    type="button"
                    onClick={() => cancel(order)}
                    aria-label={`Cancel order ${order.instrument.symbol}`}
                  >
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const POSITIONS = `query { positions { ${POSITION_FIELDS} } }`;
const POSITION_UPDATES = `subscription { positionUpdates { ${POSITION_FIELDS} } }`;
const positionKey = (p: Position) => `${keyOf(p.instrument)}:${p.productType}`;

function PositionsPanel({ api }: { api: Api }) {
  const [positions, setPositions] = useState<Map<string, Position>>(new Map());
  const [error, setError] = useState('');
  useEffect(() => {
    const upsert = (list: Position[]) =>
      setPositions((current) => {
        const next = new Map(current);
        for (const p of list) next.set(positionKey(p), p);
        return next;
      });
    const stop = api.subscribe<{ positionUpdates: Position }>(
      '/graphql',
      POSITION_UPDATES,
      {},
      {
        next: (data) => upsert([data.positionUpdates]),
        error: (e) => setError(e.display),
      },
    );
    api
      .request<{ positions: Position[] }>('/graphql', POSITIONS)
      .then((data) => upsert(data.positions))
      .catch((e: unknown) => setError(errorText(e)));
    return stop;
  }, [api]);

  const list = [...positions.values()].sort(
    (a, b) => Math.abs(b.netQuantity) - Math.abs(a.netQuantity),
  );
  const total = list.reduce((sum, p) => sum + p.realizedPnl + (p.unrealizedPnl ?? 0), 0);
  return (
    <section class="panel positions" aria-label="Positions">
      <h2>
        Positions <span class={`total ${signClass(total)}`}>P&amp;L {fmtSigned(total)}</span>
      </h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Instrument</th>
            <th>Product</th>
            <th class="num">Net qty</th>
            <th class="num">Buy avg</th>
            <th class="num">Sell avg</th>
            <th class="num">LTP</th>
            <th class="num">Unrealised</th>
            <th class="num">Realised</th>
          </tr>
        </thead>
        <tbody>
          {list.length === 0 && (
            <tr>
              <td colSpan={8} class="empty">
                No positions.
              </td>
            </tr>
          )}
          {list.map((p) => (
            <tr key={positionKey(p)} class={p.netQuantity === 0 ? 'flat' : ''}>
              <td class="sym">{p.instrument.symbol}</td>
              <td>{p.productType}</td>
              <td class={`num ${signClass(p.netQuantity)}`}>{fmtQty(p.netQuantity)}</td>
              <td class="num">{fmtPrice(p.buyAverage || null)}</td>
              <td class="num">{fmtPrice(p.sellAverage || null)}</td>
              <td class="num">{fmtPrice(p.ltp)}</td>
              <td class={`num ${signClass(p.unrealizedPnl)}`}>{fmtSigned(p.unrealizedPnl)}</td>
              <td class={`num ${signClass(p.realizedPnl)}`}>{fmtSigned(p.realizedPnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// The page

function FrameStats({ store }: { store: TickStore }) {
  useTickFrame(store);
  return (
    <span class="dim" data-testid="frame-stats">
      {fmtQty(store.applied)} ticks in {fmtQty(store.frames)} frames
    </span>
  );
}

function Terminal({ api }: { api: Api }) {
  const store = useMemo(() => new TickStore(), []);
  const watchlists = useWatchlists(api);
  const [ticket, setTicket] = useState<Instrument | null>(null);
  const [side, setSide] = useState<'BUY' | 'SELL'>('BUY');
  const [underlying, setUnderlying] = useState('NIFTY');
  const [fundsVersion, setFundsVersion] = useState(0);
  const user = api.user!;

  const actions: Actions = {
    watch: (instrument) => void watchlists.add(instrument),
    trade: (instrument) => setTicket(instrument),
    chain: (name) => setUnderlying(name),
  };
  const bumpFunds = useCallback(() => setFundsVersion((v) => v + 1), []);

  // Keyboard: "/" search, "b"/"s" side of the ticket, Escape leaves a field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName);
      if (event.key === 'Escape' && typing) target.blur();
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === '/') {
        event.preventDefault();
        document.getElementById('search')?.focus();
      } else if (event.key === 'b') setSide('BUY');
      else if (event.key === 's') setSide('SELL');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div class="terminal">
      <header class="top">
        <strong class="brand">Broking terminal</strong>
        <FeedHealthBadge api={api} />
        <MarketStatusBadges api={api} />
        <span class="spacer" />
        {user.role === 'ADMIN' && <a href="/admin">Operator view</a>}
        <a href="/graphiql">GraphiQL</a>
        <span data-testid="user">{user.username}</span>
        <button type="button" onClick={() => void api.logout()}>
          Log out
        </button>
      </header>
      <div class="grid">
        <div class="col left">
          <Search api={api} actions={actions} />
          <WatchlistPanel api={api} store={store} watchlists={watchlists} actions={actions} />
        </div>
        <div class="col middle">
          <OptionChainPanel
            api={api}
            store={store}
            underlying={underlying}
            setUnderlying={setUnderlying}
            onTrade={actions.trade}
          />
        </div>
        <div class="col right">
          <OrderTicket
            api={api}
            store={store}
            instrument={ticket}
            side={side}
            setSide={setSide}
            onPlaced={bumpFunds}
          />
          <PriceChart api={api} instrument={ticket} />
          <FundsPanel api={api} version={fundsVersion} />
        </div>
      </div>
      <div class="bottom">
        <OrdersPanel api={api} onChange={bumpFunds} />
        <PositionsPanel api={api} />
      </div>
      <footer>
        <span>Keys: / search · ↑↓ Enter add to watchlist · b / s side · Esc leave field</span>
        <span class="spacer" />
        <FrameStats store={store} />
      </footer>
    </div>
  );
}

function App({ api }: { api: Api }) {
  const [user, setUser] = useState(api.user);
  useEffect(() => api.onSession((session) => setUser(session?.user ?? null)), [api]);
  return user ? <Terminal key={user.id} api={api} /> : <Login api={api} title="Broking terminal" />;
}

render(<App api={new Api()} />, document.getElementById('app')!);
