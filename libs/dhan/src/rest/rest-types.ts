import { ExchangeSegment } from '../types';

// Request and response shapes of DhanHQ v2 REST (DhanHQ v2: REST), in the API's own spelling.

export type TransactionType = 'BUY' | 'SELL';
export type ProductType = 'CNC' | 'INTRADAY' | 'MARGIN' | 'MTF' | 'CO' | 'BO';
export type OrderType = 'LIMIT' | 'MARKET' | 'STOP_LOSS' | 'STOP_LOSS_MARKET';
export type Validity = 'DAY' | 'IOC';
export type AmoTime = 'PRE_OPEN' | 'OPEN' | 'OPEN_30' | 'OPEN_60';
export type LegName = 'ENTRY_LEG' | 'TARGET_LEG' | 'STOP_LOSS_LEG';
export type OrderStatus =
  | 'TRANSIT'
  | 'PENDING'
  | 'CLOSED'
  | 'TRIGGERED'
  | 'REJECTED'
  | 'CANCELLED'
  | 'PART_TRADED'
  | 'TRADED'
  | 'EXPIRED'
  | 'CONFIRM';

/** POST /orders. `dhanClientId` is added by the client. */
export interface PlaceOrderRequest {
  /** At most 25 characters from [A-Za-z0-9 _-] (DhanHQ v2: correlationId); see `toCorrelationId`. */
  correlationId?: string;
  transactionType: TransactionType;
  exchangeSegment: ExchangeSegment;
  productType: ProductType;
  orderType: OrderType;
  validity: Validity;
  securityId: string;
  quantity: number;
  disclosedQuantity?: number;
  price?: number;
  triggerPrice?: number;
  afterMarketOrder?: boolean;
  amoTime?: AmoTime;
  boProfitValue?: number;
  boStopLossValue?: number;
}

/** PUT /orders/{id}. `quantity` is the total placed quantity, not the pending one. */
export interface ModifyOrderRequest {
  orderType: OrderType;
  validity: Validity;
  legName?: LegName;
  quantity?: number;
  price?: number;
  disclosedQuantity?: number;
  triggerPrice?: number;
}

export interface OrderAck {
  orderId: string;
  orderStatus: OrderStatus | string;
}

export interface DhanOrder {
  dhanClientId?: string;
  orderId: string;
  exchangeOrderId?: string;
  correlationId?: string;
  orderStatus: OrderStatus | string;
  transactionType: TransactionType;
  exchangeSegment: ExchangeSegment | string;
  productType: ProductType | string;
  orderType: OrderType | string;
  validity: Validity | string;
  tradingSymbol?: string;
  securityId: string;
  quantity: number;
  disclosedQuantity?: number;
  price?: number;
  triggerPrice?: number;
  afterMarketOrder?: boolean;
  boProfitValue?: number;
  boStopLossValue?: number;
  legName?: string;
  createTime?: string;
  updateTime?: string;
  exchangeTime?: string;
  drvExpiryDate?: string;
  drvOptionType?: string | null;
  drvStrikePrice?: number;
  omsErrorCode?: string;
  omsErrorDescription?: string;
  algoId?: string;
  remainingQuantity?: number;
  averageTradedPrice?: number;
  filledQty?: number;
}

export interface DhanTrade {
  dhanClientId?: string;
  orderId: string;
  exchangeOrderId?: string;
  exchangeTradeId?: string;
  transactionType: TransactionType;
  exchangeSegment: ExchangeSegment | string;
  productType: ProductType | string;
  orderType: OrderType | string;
  tradingSymbol?: string;
  securityId: string;
  tradedQuantity: number;
  tradedPrice: number;
  createTime?: string;
  updateTime?: string;
  exchangeTime?: string;
  drvExpiryDate?: string;
  drvOptionType?: string | null;
  drvStrikePrice?: number;
}

export interface DhanPosition {
  dhanClientId?: string;
  tradingSymbol?: string;
  securityId: string;
  positionType: 'LONG' | 'SHORT' | 'CLOSED' | string;
  exchangeSegment: ExchangeSegment | string;
  productType: ProductType | string;
  buyAvg: number;
  buyQty: number;
  costPrice?: number;
  sellAvg: number;
  sellQty: number;
  netQty: number;
  realizedProfit: number;
  unrealizedProfit: number;
  rbiReferenceRate?: number;
  multiplier?: number;
  carryForwardBuyQty?: number;
  carryForwardSellQty?: number;
  carryForwardBuyValue?: number;
  carryForwardSellValue?: number;
  dayBuyQty?: number;
  daySellQty?: number;
  dayBuyValue?: number;
  daySellValue?: number;
  drvExpiryDate?: string;
  drvOptionType?: string | null;
  drvStrikePrice?: number;
  crossCurrency?: boolean;
}

export interface DhanHolding {
  exchange: string;
  tradingSymbol: string;
  securityId: string;
  isin: string;
  totalQty: number;
  dpQty: number;
  t1Qty: number;
  availableQty: number;
  collateralQty: number;
  avgCostPrice: number;
}

/** GET /fundlimit; `availabelBalance` is the API's own spelling. */
export interface FundLimit {
  dhanClientId?: string;
  availabelBalance: number;
  sodLimit: number;
  collateralAmount: number;
  receiveableAmount: number;
  utilizedAmount: number;
  blockedPayoutAmount: number;
  withdrawableBalance: number;
}

export interface MarginRequest {
  exchangeSegment: ExchangeSegment;
  transactionType: TransactionType;
  quantity: number;
  productType: ProductType;
  securityId: string;
  price?: number;
  triggerPrice?: number;
}

export interface MarginResponse {
  totalMargin: number;
  spanMargin: number;
  exposureMargin: number;
  availableBalance: number;
  variableMargin: number;
  insufficientBalance: number;
  brokerage: number;
  leverage: string;
}

export interface OptionChainRequest {
  underlyingScrip: number;
  underlyingSeg: ExchangeSegment;
  /** YYYY-MM-DD */
  expiry: string;
}

export interface OptionGreeks {
  delta: number;
  theta: number;
  gamma: number;
  vega: number;
}

export interface OptionLeg {
  average_price?: number;
  greeks?: OptionGreeks;
  implied_volatility?: number;
  last_price: number;
  oi?: number;
  previous_close_price?: number;
  previous_oi?: number;
  previous_volume?: number;
  security_id?: number | string;
  top_ask_price?: number;
  top_ask_quantity?: number;
  top_bid_price?: number;
  top_bid_quantity?: number;
  volume?: number;
}

export interface OptionChainStrike {
  strike: number;
  ce?: OptionLeg;
  pe?: OptionLeg;
}

/** The option chain with strike keys parsed to numbers and sorted ascending. */
export interface OptionChain {
  lastPrice: number;
  strikes: OptionChainStrike[];
}

/** Body of /marketfeed/*: segment name to numeric security ids. */
export type MarketQuoteRequest = Partial<Record<ExchangeSegment, number[]>>;

export interface LtpQuote {
  last_price: number;
}

export interface Ohlc {
  open: number;
  close: number;
  high: number;
  low: number;
}

export interface OhlcQuote extends LtpQuote {
  ohlc: Ohlc;
}

export interface QuoteDepthLevel {
  quantity: number;
  orders: number;
  price: number;
}

export interface FullQuote extends OhlcQuote {
  average_price?: number;
  buy_quantity?: number;
  sell_quantity?: number;
  depth?: { buy: QuoteDepthLevel[]; sell: QuoteDepthLevel[] };
  last_quantity?: number;
  last_trade_time?: string;
  lower_circuit_limit?: number;
  upper_circuit_limit?: number;
  net_change?: number;
  oi?: number;
  oi_day_high?: number;
  oi_day_low?: number;
  volume?: number;
}

/** Segment -> security id (as a string) -> quote. */
export type MarketQuoteResponse<Q> = Partial<Record<ExchangeSegment | string, Record<string, Q>>>;

/** Body of `/charts/historical` (daily) and, with `interval`, `/charts/intraday`. */
export interface ChartRequest {
  securityId: string;
  exchangeSegment: ExchangeSegment;
  /** DhanHQ instrument type: `INDEX`, `EQUITY`, `FUTIDX`, `OPTIDX`, `FUTSTK`, `OPTSTK`, `FUTCOM`, ... */
  instrument: string;
  /** Daily: `YYYY-MM-DD`; intraday: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (IST). */
  fromDate: string;
  /** Non-inclusive. */
  toDate: string;
  expiryCode?: number;
  oi?: boolean;
}

export type IntradayInterval = 1 | 5 | 15 | 25 | 60;

/** One bar of a chart answer; `timestamp` in true UTC epoch seconds (DhanHQ v2 charts). */
export interface ChartCandle {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  openInterest?: number;
}

export type KillSwitchStatus = 'ACTIVATE' | 'DEACTIVATE';

export interface KillSwitchResponse {
  dhanClientId?: string;
  killSwitchStatus: string;
}
