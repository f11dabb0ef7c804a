import { ExchangeSegment, Instrument } from '@app/dhan/types';
import { FundsLedger } from '../funds-ledger';
import { RiskEngine } from '../risk-engine';
import { DEFAULT_RISK_LIMITS, RiskLimits } from '../risk-limits';
import {
  AccountSnapshot,
  MarketSnapshot,
  PositionSnapshot,
  RiskContext,
  RiskOrder,
  TradingState,
} from '../risk.types';

export const NOW = Date.UTC(2026, 10, 25, 5, 0, 0);
export const TODAY = '2026-11-25';
export const rupees = (r: number): number => Math.round(r * 100);

let seq = 0;
const nextId = (prefix: string): string => `${prefix}-${++seq}`;

export function anEquity(overrides: Partial<Instrument> = {}): Instrument {
  return {
    segment: ExchangeSegment.NSE_EQ,
    securityId: '2885',
    exchange: 'NSE',
    instrumentType: 'EQUITY',
    symbol: 'RELIANCE',
    displayName: 'Reliance Industries',
    lotSize: 1,
    tickSize: 0.05,
    ...overrides,
  };
}

export function aFuture(overrides: Partial<Instrument> = {}): Instrument {
  return anEquity({
    segment: ExchangeSegment.NSE_FNO,
    securityId: '35001',
    instrumentType: 'FUTIDX',
    symbol: 'NIFTY-Dec2026-FUT',
    displayName: 'NIFTY DEC FUT',
    underlying: 'NIFTY',
    expiry: '2026-12-29',
    lotSize: 75,
    tickSize: 0.1,
    ...overrides,
  });
}

export function anOption(overrides: Partial<Instrument> = {}): Instrument {
  return aFuture({
    securityId: '40001',
    instrumentType: 'OPTIDX',
    symbol: 'NIFTY-Dec2026-24000-CE',
    displayName: 'NIFTY 29 DEC 24000 CALL',
    strike: 24000,
    optionType: 'CE',
    tickSize: 0.05,
    ...overrides,
  });
}

export function anIndex(overrides: Partial<Instrument> = {}): Instrument {
  return anEquity({
    segment: ExchangeSegment.IDX_I,
    securityId: '13',
    instrumentType: 'INDEX',
    symbol: 'NIFTY',
    displayName: 'Nifty 50',
    ...overrides,
  });
}

/** A new BUY 10 RELIANCE LIMIT 1000 CNC DAY order from user-1. */
export function anOrder(overrides: Partial<RiskOrder> = {}): RiskOrder {
  return {
    orderId: nextId('order'),
    userId: 'user-1',
    action: 'PLACE',
    side: 'BUY',
    quantity: 10,
    orderType: 'LIMIT',
    productType: 'CNC',
    validity: 'DAY',
    price: 1000,
    ...overrides,
  };
}

export interface ContextOverrides extends Partial<
  Omit<RiskContext, 'limits' | 'market' | 'position' | 'account'>
> {
  limits?: Partial<RiskLimits>;
  market?: Partial<MarketSnapshot>;
  position?: Partial<PositionSnapshot>;
  account?: Partial<AccountSnapshot>;
  /** Opening balance of a fresh ledger when `funds` is not given. */
  balancePaise?: number;
}

/** ACTIVE everywhere, RELIANCE at a fresh LTP of Rs 1,000, no position, Rs 10 lakh of funds. */
export function aContext(overrides: ContextOverrides = {}): RiskContext {
  const { limits, market, position, account, balancePaise, ...rest } = overrides;
  return {
    now: NOW,
    today: TODAY,
    globalState: TradingState.ACTIVE,
    userState: TradingState.ACTIVE,
    instrument: anEquity(),
    funds: new FundsLedger(balancePaise ?? rupees(1_000_000)),
    ...rest,
    limits: { ...DEFAULT_RISK_LIMITS, ...limits },
    market: { ltp: 1000, lastTickAt: NOW - 500, stale: false, ...market },
    position: { netQuantity: 0, openBuyQuantity: 0, openSellQuantity: 0, ...position },
    account: { openOrderCount: 0, grossExposurePaise: 0, dayPnlPaise: 0, ...account },
  };
}

export function anEngine(now: () => number = () => NOW): RiskEngine {
  return new RiskEngine({ now });
}

/** Runs one order through a fresh engine. */
export function checkOnce(order: RiskOrder, ctx: RiskContext = aContext()) {
  return anEngine(() => ctx.now).check(order, ctx);
}
