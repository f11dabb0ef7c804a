import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Api, ApiError } from './api';
import { fmtPrice, fmtQty, fmtTime } from './format';
import { Login } from './login';
import './styles.css';

interface FeedStatus {
  connected: boolean;
  mode: string;
  instruments: number;
  capacity: number;
  packetsReceived: number;
  staleInstruments: number;
  connections: {
    index: number;
    state: string;
    instruments: number;
    packets: number;
    reconnects: number;
    decodeErrors: number;
    lastMessageAt: string | null;
  }[];
  byTier: { name: string; instruments: number; references: number | null }[];
  byUnderlying: { name: string; instruments: number; references: number | null }[];
}
interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}
interface RiskLimits {
  maxOrderValuePaise: number;
  maxPositionValuePaise: number;
  maxGrossExposurePaise: number;
  maxDailyLossPaise: number;
  maxOpenOrders: number;
  maxOrdersPerWindow: number;
  rateWindowMs: number;
  maxQuantityPerOrder: number;
  priceCollarBps: number;
  marketOrderBufferBps: number;
  staleAfterMs: number;
  freezePolicy: string;
}
interface AuditEntry {
  id: string;
  createdAt: string;
  actorUsername: string;
  action: string;
  target: string | null;
  payload: string;
}
interface Overview {
  feedStatus: FeedStatus;
  users: User[];
  riskLimits: RiskLimits;
  auditLog: AuditEntry[];
}

const OVERVIEW = `query Overview {
  feedStatus {
    connected mode instruments capacity packetsReceived staleInstruments
    connections { index state instruments packets reconnects decodeErrors lastMessageAt }
    byTier { name instruments references }
    byUnderlying { name instruments references }
  }
  users { id username role disabled createdAt }
  riskLimits {
    maxOrderValuePaise maxPositionValuePaise maxGrossExposurePaise maxDailyLossPaise maxOpenOrders
    maxOrdersPerWindow rateWindowMs maxQuantityPerOrder priceCollarBps marketOrderBufferBps
    staleAfterMs freezePolicy
  }
  auditLog(limit: 30) { id createdAt actorUsername action target payload }
}`;
const SET_TRADING = `mutation Trading($state: TradingState!, $reason: String) {
  setTradingState(scope: GLOBAL, state: $state, reason: $reason) { state reason updatedAt }
}`;

const REFRESH_MS = 2_000;
const rupees = (paise: number) => fmtPrice(paise / 100);

function FeedPanel({ feed }: { feed: FeedStatus }) {
  return (
    <section class="panel" aria-label="Feed status" data-testid="feed-status">
      <h2>
        Feed{' '}
        <span class={`badge ${feed.connected ? 'good' : 'bad'}`}>
          {feed.connected ? 'connected' : 'DOWN'}
        </span>
      </h2>
      <p class="meta">
        mode {feed.mode} · {fmtQty(feed.instruments)} / {fmtQty(feed.capacity)} instruments ·{' '}
        {fmtQty(feed.staleInstruments)} stale · {fmtQty(feed.packetsReceived)} packets
      </p>
      <table>
        <thead>
          <tr>
            <th>Conn</th>
            <th>State</th>
            <th class="num">Instruments</th>
            <th class="num">Packets</th>
            <th class="num">Reconnects</th>
            <th class="num">Decode errors</th>
            <th>Last message</th>
          </tr>
        </thead>
        <tbody>
          {feed.connections.map((c) => (
            <tr
              key={c.index}
              data-testid="feed-connection"
              class={c.state === 'OPEN' || c.state === 'open' ? '' : 'stale'}
            >
              <td>#{c.index}</td>
              <td>{c.state}</td>
              <td class="num">{fmtQty(c.instruments)}</td>
              <td class="num">{fmtQty(c.packets)}</td>
              <td class="num">{fmtQty(c.reconnects)}</td>
              <td class="num">{fmtQty(c.decodeErrors)}</td>
              <td>{fmtTime(c.lastMessageAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CountsPanel({ feed }: { feed: FeedStatus }) {
  const rows = (list: FeedStatus['byTier']) =>
    list.map((row) => (
      <tr key={row.name}>
        <td>{row.name}</td>
        <td class="num">{fmtQty(row.instruments)}</td>
        <td class="num">{fmtQty(row.references)}</td>
      </tr>
    ));
  return (
    <section class="panel" aria-label="Subscriptions by tier">
      <h2>Subscriptions by tier</h2>
      <table>
        <thead>
          <tr>
            <th>Tier</th>
            <th class="num">Instruments</th>
            <th class="num">References</th>
          </tr>
        </thead>
        <tbody>{rows(feed.byTier)}</tbody>
      </table>
      <h3>By underlying (Tier B)</h3>
      <table>
        <tbody>{rows(feed.byUnderlying)}</tbody>
      </table>
    </section>
  );
}

function RiskPanel({
  api,
  limits,
  onChanged,
}: {
  api: Api;
  limits: RiskLimits;
  onChanged(): void;
}) {
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const setState = (state: 'ACTIVE' | 'REDUCING' | 'HALTED') => {
    if (state !== 'ACTIVE' && !window.confirm(`Set trading ${state} for every user?`)) return;
    api
      .request<{ setTradingState: { state: string; updatedAt: string } }>(
        '/admin/graphql',
        SET_TRADING,
        {
          state,
          reason: reason.trim() || null,
        },
      )
      .then((data) => {
        setResult({
          kind: 'ok',
          text: `Trading ${data.setTradingState.state} since ${fmtTime(data.setTradingState.updatedAt)}`,
        });
        onChanged();
      })
      .catch((e: unknown) =>
        setResult({ kind: 'error', text: e instanceof ApiError ? e.display : String(e) }),
      );
  };
  const rows: [string, string][] = [
    ['Max order value', rupees(limits.maxOrderValuePaise)],
    ['Max position value', rupees(limits.maxPositionValuePaise)],
    ['Max gross exposure', rupees(limits.maxGrossExposurePaise)],
    ['Max daily loss', rupees(limits.maxDailyLossPaise)],
    ['Max open orders', fmtQty(limits.maxOpenOrders)],
    [
      'Orders per window',
      `${fmtQty(limits.maxOrdersPerWindow)} / ${fmtQty(limits.rateWindowMs)} ms`,
    ],
    ['Max quantity per order', fmtQty(limits.maxQuantityPerOrder)],
    ['Price collar', `${limits.priceCollarBps} bps`],
    ['Market order buffer', `${limits.marketOrderBufferBps} bps`],
    ['Price stale after', `${fmtQty(limits.staleAfterMs)} ms`],
    ['Freeze policy', limits.freezePolicy],
  ];
  return (
    <section class="panel" aria-label="Risk limits and kill switch">
      <h2>Risk limits (default)</h2>
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <h3>Kill switch (all users)</h3>
      <div class="inline">
        <input
          aria-label="Reason"
          placeholder="Reason"
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        <button type="button" class="sell" onClick={() => setState('HALTED')}>
          Halt
        </button>
        <button type="button" onClick={() => setState('REDUCING')}>
          Reduce only
        </button>
        <button type="button" class="buy" onClick={() => setState('ACTIVE')}>
          Resume
        </button>
      </div>
      {result && <p class={result.kind}>{result.text}</p>}
    </section>
  );
}

function Operator({ api }: { api: Api }) {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    let live = true;
    const load = () =>
      api
        .request<Overview>('/admin/graphql', OVERVIEW)
        .then((data) => {
          if (!live) return;
          setOverview(data);
          setError('');
        })
        .catch((e: unknown) => {
          if (!live) return;
          if (e instanceof ApiError && (e.code === 'FORBIDDEN' || e.code === 'UNAUTHENTICATED')) {
            setRefused(e.display);
            window.clearInterval(timer);
          } else setError(e instanceof ApiError ? e.display : String(e));
        });
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [api, version]);

  const user = api.user!;
  const header = (
    <header class="top">
      <strong class="brand">Operator view</strong>
      <span class="spacer" />
      <a href="/">Terminal</a>
      <span data-testid="user">{user.username}</span>
      <button type="button" onClick={() => void api.logout()}>
        Log out
      </button>
    </header>
  );
  if (refused) {
    return (
      <div class="terminal">
        {header}
        <div class="refused" role="alert" data-testid="admins-only">
          <h1>Admins only</h1>
          <p>
            {user.username} is not an administrator: the operator view shows nothing to other users.
            The server answered: {refused}
          </p>
          <p>
            <a href="/">Back to the terminal</a>
          </p>
        </div>
      </div>
    );
  }
  return (
    <div class="terminal">
      {header}
      {error && <p class="error">{error}</p>}
      {!overview && !error && <p class="meta">Loading…</p>}
      {overview && (
        <div class="admin-grid">
          <FeedPanel feed={overview.feedStatus} />
          <CountsPanel feed={overview.feedStatus} />
          <RiskPanel api={api} limits={overview.riskLimits} onChanged={reload} />
          <section class="panel" aria-label="Users">
            <h2>Users</h2>
            <table>
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th>Status</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {overview.users.map((u) => (
                  <tr key={u.id} data-testid="user-row">
                    <td>{u.username}</td>
                    <td>{u.role}</td>
                    <td>{u.disabled ? 'disabled' : 'active'}</td>
                    <td>{new Date(u.createdAt).toLocaleDateString('en-IN')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="panel wide" aria-label="Audit log">
            <h2>Audit log</h2>
            <table>
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Actor</th>
                  <th>Action</th>
                  <th>Target</th>
                  <th>Details</th>
                </tr>
              </thead>
              <tbody>
                {overview.auditLog.map((entry) => (
                  <tr key={entry.id}>
                    <td>{fmtTime(entry.createdAt)}</td>
                    <td>{entry.actorUsername}</td>
                    <td>{entry.action}</td>
                    <td>{entry.target ?? ''}</td>
                    <td class="payload">{entry.payload}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </div>
  );
}

function App({ api }: { api: Api }) {
  const [user, setUser] = useState(api.user);
  useEffect(() => api.onSession((session) => setUser(session?.user ?? null)), [api]);
  return user ? <Operator key={user.id} api={api} /> : <Login api={api} title="Operator view" />;
}

render(<App api={new Api()} />, document.getElementById('app')!);
