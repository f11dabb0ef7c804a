/** The API's shapes as the pages use them (field names from the schema). */
export interface Instrument {
  segment: string;
  securityId: string;
  symbol: string;
  displayName: string;
  instrumentType: string;
  lotSize: number;
  tickSize: number;
  underlying: string | null;
  expiry: string | null;
  strike: number | null;
  optionType: string | null;
}

export const INSTRUMENT_FIELDS =
  'segment securityId symbol displayName instrumentType lotSize tickSize underlying expiry strike optionType';

export interface Quote {
  ltp: number | null;
  change: number | null;
  changePercent: number | null;
  oi: number | null;
  stale: boolean;
}

export const QUOTE_FIELDS = 'ltp change changePercent oi stale';

export interface Order {
  id: string;
  clientOrderId: string;
  status: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  filledQuantity: number;
  averagePrice: number | null;
  price: number | null;
  triggerPrice: number | null;
  orderType: string;
  productType: string;
  validity: string;
  rejectionReason: string | null;
  createdAt: string;
  updatedAt: string;
  instrument: Instrument;
}

export const ORDER_FIELDS = `id clientOrderId status side quantity filledQuantity averagePrice price
  triggerPrice orderType productType validity rejectionReason createdAt updatedAt
  instrument { ${INSTRUMENT_FIELDS} }`;

export interface Position {
  instrument: Instrument;
  productType: string;
  netQuantity: number;
  buyQuantity: number;
  sellQuantity: number;
  buyAverage: number;
  sellAverage: number;
  ltp: number | null;
  realizedPnl: number;
  unrealizedPnl: number | null;
}

export const POSITION_FIELDS = `productType netQuantity buyQuantity sellQuantity buyAverage sellAverage
  ltp realizedPnl unrealizedPnl instrument { ${INSTRUMENT_FIELDS} }`;

export interface Funds {
  available: number;
  balance: number;
  reserved: number;
  used: number;
}

export interface FeedHealth {
  connected: boolean;
  connections: number;
  lastTickTime: string | null;
  staleInstruments: number;
}

export interface MarketStatus {
  exchange: string;
  status: 'OPEN' | 'PRE_OPEN' | 'CLOSED';
  closesAt: string | null;
  nextOpen: string | null;
}

/** Orders that can still be cancelled. */
export const WORKING = new Set([
  'NEW',
  'IN_FLIGHT',
  'TRANSIT',
  'PENDING',
  'PART_TRADED',
  'UNKNOWN',
]);
